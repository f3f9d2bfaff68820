/**
 * One answer through the whole core, as every dialect needs it: tool calls parsed out, then
 * stop sequences and max tokens applied to the prose, ending with one `finish` event. Streamed
 * and whole answers share this code, so they agree for any chunking. After a stop sequence or
 * the token limit, `finished` turns true and the caller may cancel the upstream answer.
 */
import { StopSequenceCutter, TokenLimiter } from './limits.ts';
import { estimateTokens, type TokenCounter } from './tokens.ts';
import {
  createToolCallParser,
  type CallProblem,
  type DroppedCall,
  type ToolCallParser,
  type ToolParseOptions,
  type ToolStreamEvent,
} from './tool-calls.ts';
import type { ChatTurn, FinishReason, ToolCall } from './types.ts';

/** How the answer ended, with everything a dialect's final chunk or object needs. */
export interface AnswerFinish {
  readonly type: 'finish';
  readonly reason: FinishReason;
  /** The stop sequence that ended it (reason `stop_sequence`). */
  readonly stopSequence: string | null;
  readonly calls: readonly ToolCall[];
  /** Non-empty: calls failed their schema; the caller re-asks once (`repairPrompt`). */
  readonly problems: readonly CallProblem[];
  readonly dropped: readonly DroppedCall[];
  /** Tokens of the prose and the call arguments sent. */
  readonly outputTokens: number;
}

/** What a dialect translates into its own stream. */
export type AnswerEvent =
  | Extract<ToolStreamEvent, { type: 'text' | 'call_start' | 'call_arguments' | 'call_end' }>
  | AnswerFinish;

/** The whole answer, for a non-streamed reply. */
export interface AnswerSummary extends Omit<AnswerFinish, 'type'> {
  readonly text: string;
}

/** What the pipeline needs from the turn (`firstCallIndex`, `callSeed`: see ToolParseOptions). */
export type AnswerOptions = Pick<
  ChatTurn,
  'tools' | 'toolChoice' | 'parallelToolCalls' | 'stop' | 'maxTokens'
> &
  Pick<ToolParseOptions, 'firstCallIndex' | 'callSeed'>;

/** The streamed pipeline for one answer. */
export class AnswerStream {
  private readonly parser: ToolCallParser | null;
  private readonly stops: StopSequenceCutter;
  private readonly limiter: TokenLimiter;
  private readonly calls: ToolCall[] = [];
  private readonly problems: CallProblem[] = [];
  private readonly dropped: DroppedCall[] = [];
  private callTokens = 0;
  private stopSequence: string | null = null;
  private done = false;

  /** Tools are parsed whenever the turn declares any (even with tool_choice none, so nothing leaks). */
  constructor(
    options: AnswerOptions,
    private readonly count: TokenCounter = estimateTokens,
  ) {
    this.parser = options.tools.length > 0 ? createToolCallParser(options) : null;
    this.stops = new StopSequenceCutter(options.stop);
    this.limiter = new TokenLimiter(options.maxTokens ?? Infinity, count);
  }

  /** True once a limit ended the answer; later input is ignored. */
  get finished(): boolean {
    return this.done;
  }

  /** Feeds a text delta of the answer. */
  push(delta: string): AnswerEvent[] {
    if (this.done) {
      return [];
    }
    const events = this.parser ? this.parser.push(delta) : [{ type: 'text' as const, text: delta }];
    return this.route(events);
  }

  /** The upstream answer is complete: flushes everything and finishes. */
  end(): AnswerEvent[] {
    if (this.done) {
      return [];
    }
    const out = this.route(this.parser?.end() ?? []);
    if (this.done) {
      return out;
    }
    const rest = this.stops.end();
    if (rest !== '') {
      out.push(...this.limited(rest));
    }
    if (!this.done) {
      out.push(this.finish(this.calls.length > 0 ? 'tool_calls' : 'stop'));
    }
    return out;
  }

  private route(events: readonly ToolStreamEvent[]): AnswerEvent[] {
    const out: AnswerEvent[] = [];
    for (const event of events) {
      if (this.done) {
        break;
      }
      if (event.type === 'text') {
        const step = this.stops.push(event.text);
        out.push(...this.limited(step.text));
        if (step.done && !this.done) {
          this.stopSequence = this.stops.stoppedBy;
          out.push(this.finish('stop_sequence'));
        }
      } else if (event.type === 'call_dropped') {
        this.dropped.push(event.dropped);
      } else if (event.type === 'call_invalid') {
        this.problems.push(event.problem);
      } else {
        if (event.type === 'call_end') {
          this.calls.push(event.call);
        } else if (event.type === 'call_arguments') {
          this.callTokens += this.count(event.delta);
        }
        out.push(event);
      }
    }
    return out;
  }

  private limited(text: string): AnswerEvent[] {
    const step = this.limiter.push(text);
    const out: AnswerEvent[] = step.text === '' ? [] : [{ type: 'text', text: step.text }];
    if (step.done) {
      out.push(this.finish('length'));
    }
    return out;
  }

  private finish(reason: FinishReason): AnswerFinish {
    this.done = true;
    return {
      type: 'finish',
      reason,
      stopSequence: reason === 'stop_sequence' ? this.stopSequence : null,
      calls: [...this.calls],
      problems: [...this.problems],
      dropped: [...this.dropped],
      outputTokens: this.limiter.tokens + this.callTokens,
    };
  }
}

/** Runs a whole answer through the pipeline. */
export function finishAnswer(
  text: string,
  options: AnswerOptions,
  count: TokenCounter = estimateTokens,
): AnswerSummary {
  const stream = new AnswerStream(options, count);
  return summarize([...stream.push(text), ...stream.end()]);
}

/** Folds pipeline events into the whole-answer summary. */
export function summarize(events: readonly AnswerEvent[]): AnswerSummary {
  let text = '';
  for (const event of events) {
    if (event.type === 'text') {
      text += event.text;
    } else if (event.type === 'finish') {
      const { type: _type, ...finish } = event;
      return { text, ...finish };
    }
  }
  throw new Error('summarize: the events have no finish event');
}
