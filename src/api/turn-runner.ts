/**
 * One turn through the backend and the core, for every dialect: the rendered prompt goes up
 * through the account's queue, the text deltas run through AnswerStream (tool calls, stop
 * sequences, max tokens), thoughts pass beside them, and nextStep decides whether ONE re-ask
 * follows (an ignored required/named tool_choice, broken call arguments, JSON that fails the
 * response format). The re-ask is a second send in the same Gemini chat, never a third.
 *
 * What the client may see streams live only when no re-ask can take it back: with a JSON format
 * or a required/named tool_choice the whole answer is held until it passed. With tools on
 * `auto`, a broken call is never emitted (the parser holds calls until they pass), so text
 * streams live; the re-ask's text is then dropped and its calls continue the numbering.
 */
import { AppError, UpstreamError, type AppError as AppErrorType } from '../errors.ts';
import type { GenerateEvent, GenerateResult, ModelSpec } from '../gemini/index.ts';
import type { JobInput } from '../account/index.ts';
import type { Logger } from '../logging.ts';
import type { ChatBackend } from './backend.ts';
import type { ConversationPlan } from './conversation-plan.ts';
import {
  AnswerStream,
  estimateTokens,
  nextStep,
  summarize,
  type AnswerEvent,
  type AnswerSummary,
  type ChatTurn,
} from './core/index.ts';
import { untilDone } from './until-done.ts';

/** An answer event the client may see (everything but the finish, which the result carries). */
export type VisibleEvent = Exclude<AnswerEvent, { type: 'finish' }>;

/** Where the runner hands what the client may see, as soon as it may see it. */
export interface TurnSink {
  answer(event: VisibleEvent): Promise<void> | void;
  thought(delta: string): Promise<void> | void;
}

/** What the runner needs around the backend. */
export interface TurnRunDeps {
  readonly backend: ChatBackend;
  readonly logger: Logger;
  readonly firstTokenSeconds?: { observe(seconds: number): void } | undefined;
}

/** One turn, ready to send. */
export interface TurnRun {
  readonly turn: ChatTurn;
  readonly model: ModelSpec;
  readonly cp: ConversationPlan;
  readonly inputs: readonly JobInput[];
  readonly requestId: string;
  readonly signal: AbortSignal;
  readonly startedAt: number;
  /** A cut after some text (outcome unknown) ends the turn as `length` instead of throwing. */
  readonly partialOnCut: boolean;
}

/** How the turn ended. `summary.text` is the JSON itself for a structured answer. */
export interface TurnResult {
  readonly summary: AnswerSummary;
  readonly thoughts: string;
  /** The last answer's result (its chat continues the conversation); null after a cut. */
  readonly result: GenerateResult | null;
  /** Upstream sends: 1, or 2 after a re-ask. */
  readonly sends: number;
}

interface Attempt {
  readonly summary: AnswerSummary;
  readonly events: readonly AnswerEvent[];
  readonly result: GenerateResult | null;
}

/** Runs the turn; throws AppErrors (upstreamSent set once a prompt may have gone up). */
export async function runTurn(
  deps: TurnRunDeps,
  run: TurnRun,
  sink: TurnSink,
): Promise<TurnResult> {
  const { turn } = run;
  const live =
    turn.responseFormat.type === 'text' && ['auto', 'none'].includes(turn.toolChoice.type);
  let thoughts = '';
  let firstSeen = false;
  const seen = (): void => {
    if (!firstSeen) {
      firstSeen = true;
      deps.firstTokenSeconds?.observe((performance.now() - run.startedAt) / 1000);
    }
  };
  const onThought = async (delta: string): Promise<void> => {
    seen();
    thoughts += delta;
    await sink.thought(delta);
  };
  const renumber = new CallRenumber();
  const deliver = async (event: AnswerEvent, reask: boolean): Promise<void> => {
    for (const shown of event.type === 'finish' ? [] : renumber.map(event, reask)) {
      seen();
      await sink.answer(shown);
    }
  };
  const job = {
    requestId: run.requestId,
    model: run.model,
    prompt: run.cp.prompt,
    inputs: run.inputs,
    chat: run.cp.chat,
    replayPrompt: run.cp.replayPrompt,
  };
  const first = await attempt(deps, run, job, live ? (e) => deliver(e, false) : null, onThought);
  let step = nextStep(turn, first.summary, false);
  let last = first;
  let sends = 1;
  if (step.kind === 'reask') {
    deps.logger.info('re-asking the model once', { requestId: run.requestId, why: step.why });
    const reaskJob = {
      ...job,
      prompt: step.prompt,
      inputs: [],
      chat: first.result?.chat ?? null,
      replayPrompt: null,
    };
    try {
      last = await attempt(deps, run, reaskJob, live ? (e) => deliver(e, true) : null, onThought);
    } catch (err) {
      throw sentAnyway(err);
    }
    sends = 2;
    step = nextStep(turn, last.summary, true);
  }
  if (step.kind !== 'done') {
    throw new UpstreamError(step.kind === 'fail' ? step.message : 'The model answered unusably.', {
      code: step.why,
      upstreamSent: true,
    });
  }
  const summary =
    step.json === null ? mergedSummary(first, last, live) : { ...last.summary, text: step.json };
  if (!live) {
    for (const event of step.json === null
      ? last.events
      : [{ type: 'text' as const, text: step.json }]) {
      await deliver(event, false);
    }
  }
  return { summary, thoughts, result: last.result, sends };
}

/** Sends one prompt and reads its answer; `onEvent` null holds everything back. */
async function attempt(
  deps: TurnRunDeps,
  run: TurnRun,
  job: Parameters<ChatBackend['stream']>[0],
  onEvent: ((event: AnswerEvent) => Promise<void>) | null,
  onThought: (delta: string) => Promise<void>,
): Promise<Attempt> {
  const stream = new AnswerStream(run.turn);
  const events: AnswerEvent[] = [];
  const take = async (batch: readonly AnswerEvent[]): Promise<void> => {
    for (const event of batch) {
      events.push(event);
      await onEvent?.(event);
    }
  };
  const upstream: AsyncIterable<GenerateEvent> = deps.backend.stream(job, run.signal);
  let result: GenerateResult;
  try {
    result = await untilDone(
      upstream,
      async (ev) => {
        if (ev.type === 'text' && ev.delta) {
          await take(stream.push(ev.delta));
        } else if (ev.type === 'thought' && ev.delta) {
          await onThought(ev.delta);
        }
      },
      deps.logger,
    );
  } catch (err) {
    const text = summarizeText(events);
    if (!run.partialOnCut || !isOutcomeUnknown(err) || text === '') {
      throw err;
    }
    // Cut after some text: the part that arrived, marked as cut off (never sent again).
    deps.logger.warn('answer cut off upstream; returning the text so far', {
      requestId: run.requestId,
    });
    const summary: AnswerSummary = {
      text,
      reason: 'length',
      stopSequence: null,
      calls: events.flatMap((e) => (e.type === 'call_end' ? [e.call] : [])),
      problems: [],
      dropped: [],
      outputTokens: estimateTokens(text),
    };
    return { summary, events, result: null };
  }
  await take(stream.end());
  return { summary: summarize(events), events, result };
}

/** Live mode after a re-ask: the client saw the first answer's text and calls too. */
function mergedSummary(first: Attempt, last: Attempt, live: boolean): AnswerSummary {
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
class CallRenumber {
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

function summarizeText(events: readonly AnswerEvent[]): string {
  return events.map((e) => (e.type === 'text' ? e.text : '')).join('');
}

/** Whether `err` is a cut after Gemini may have taken the prompt (never sent again). */
export function isOutcomeUnknown(err: unknown): err is AppErrorType {
  return (err as AppErrorType | null)?.code === 'upstream_outcome_unknown';
}

/** A failure of the re-ask: the first prompt went up regardless. */
function sentAnyway(err: unknown): unknown {
  if (!(err instanceof AppError) || err.upstreamSent === true) {
    return err;
  }
  return new AppError(err.message, err.status, err.type, {
    code: err.code,
    param: err.param,
    ...(err.retryAfterS === undefined ? {} : { retryAfterS: err.retryAfterS }),
    upstreamSent: true,
    cause: err,
  });
}
