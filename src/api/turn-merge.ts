/**
 * Two attempts of one turn as the client sees them (live mode): the first answer's text and
 * calls already went out when the re-ask's answer arrives, so its text is dropped, its calls
 * continue the numbering, and a call already made is not made twice.
 */
import type { AnswerEvent, AnswerSummary } from './core/index.ts';

/** An answer event the client may see (everything but the finish, which the result carries). */
export type VisibleEvent = Exclude<AnswerEvent, { type: 'finish' }>;

type Attempt = { readonly summary: AnswerSummary };

/** Live mode after a re-ask: the client saw the first answer's text and calls too. */
export function mergedSummary(first: Attempt, last: Attempt, live: boolean): AnswerSummary {
  if (!live || first === last) {
    return last.summary;
  }
  const calls = [...first.summary.calls];
  for (const call of last.summary.calls) {
    if (!calls.some((c) => c.name === call.name && c.arguments === call.arguments)) {
      calls.push(call);
    }
  }
  const text = first.summary.text !== '' ? first.summary.text : last.summary.text;
  return {
    ...last.summary,
    text,
    calls,
    reason: calls.length > 0 ? 'tool_calls' : last.summary.reason,
  };
}

/**
 * Client-side numbering of calls across both attempts: the re-ask's text is dropped when the
 * first answer's already showed, and a call the first answer already made is not made twice.
 * A call's start, arguments and end come from the parser together; they are held to its end.
 */
export class CallRenumber {
  private next = 0;
  private textShown = false;
  private readonly made = new Set<string>();
  private held: VisibleEvent[] = [];

  map(event: VisibleEvent, reask: boolean): VisibleEvent[] {
    if (event.type === 'text') {
      if (reask && this.textShown) {
        return [];
      }
      this.textShown ||= event.text !== '';
      return [event];
    }
    if (event.type !== 'call_end') {
      this.held.push(event);
      return [];
    }
    const held = this.held;
    this.held = [];
    const signature = `${event.call.name}\n${event.call.arguments}`;
    if (reask && this.made.has(signature)) {
      return [];
    }
    this.made.add(signature);
    const index = this.next;
    this.next += 1;
    return [...held, event].map((e) => ({ ...e, index }) as VisibleEvent);
  }
}
