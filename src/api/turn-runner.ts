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
import { randomUUID } from 'node:crypto';
import { AppError, UpstreamError, type AppError as AppErrorType } from '../errors.ts';
import type { GenerateEvent, GenerateResult, ModelSpec } from '../gemini/index.ts';
import type { JobInput } from '../account/index.ts';
import type { Logger } from '../logging.ts';
import type { ChatBackend, ChatJob } from './backend.ts';
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
import { CallRenumber, mergedSummary, type VisibleEvent } from './turn-merge.ts';
import { untilDone } from './until-done.ts';

export type { VisibleEvent };

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
  /** What goes up when it differs from the plan's text: a long prompt's file note, the replay's files. */
  readonly outgoing?: {
    readonly prompt: string;
    readonly replayPrompt: string | null;
    readonly replayInputs: readonly JobInput[];
  };
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

/** One send and its answer. */
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
  const out = new Delivery(deps, run, sink);
  const job: ChatJob = {
    requestId: run.requestId,
    model: run.model,
    prompt: run.outgoing?.prompt ?? run.cp.prompt,
    inputs: run.inputs,
    chat: run.cp.chat,
    replayPrompt: run.outgoing ? run.outgoing.replayPrompt : run.cp.replayPrompt,
    ...(run.outgoing ? { replayInputs: run.outgoing.replayInputs } : {}),
    owner: run.cp.owner,
  };
  const first = await attempt(deps, run, job, live ? out.live(false) : null, out.thought);
  let step = nextStep(turn, first.summary, false);
  let last = first;
  if (step.kind === 'reask') {
    deps.logger.info('re-asking the model once', { requestId: run.requestId, why: step.why });
    // The same Gemini chat, continued after the first answer: a follow-up, never a replay.
    const chat = first.result?.chat ?? null;
    const reask = {
      ...job,
      prompt: step.prompt,
      inputs: [],
      chat,
      replayPrompt: null,
      replayInputs: [],
    };
    try {
      last = await attempt(deps, run, reask, live ? out.live(true) : null, out.thought);
    } catch (err) {
      throw sentAnyway(err);
    }
    step = nextStep(turn, last.summary, true);
  }
  if (step.kind !== 'done') {
    throw new UpstreamError(step.kind === 'fail' ? step.message : 'The model answered unusably.', {
      code: step.why,
      upstreamSent: true,
    });
  }
  if (!live) {
    const held = step.json === null ? last.events : [{ type: 'text' as const, text: step.json }];
    for (const event of held) {
      await out.deliver(event, false);
    }
  }
  return {
    summary:
      step.json === null ? mergedSummary(first, last, live) : { ...last.summary, text: step.json },
    thoughts: out.thoughts,
    result: last.result,
    sends: first === last ? 1 : 2,
  };
}

/** What the client sees, in order: thoughts as they come, answer events renumbered. */
class Delivery {
  thoughts = '';
  private firstSeen = false;
  private readonly renumber = new CallRenumber();

  constructor(
    private readonly deps: TurnRunDeps,
    private readonly run: TurnRun,
    private readonly sink: TurnSink,
  ) {}

  readonly thought = async (delta: string): Promise<void> => {
    this.seen();
    this.thoughts += delta;
    await this.sink.thought(delta);
  };

  /** A live callback for an attempt (the re-ask's or not). */
  live(reask: boolean): (event: AnswerEvent) => Promise<void> {
    return (event) => this.deliver(event, reask);
  }

  async deliver(event: AnswerEvent, reask: boolean): Promise<void> {
    for (const shown of event.type === 'finish' ? [] : this.renumber.map(event, reask)) {
      this.seen();
      await this.sink.answer(shown);
    }
  }

  private seen(): void {
    if (!this.firstSeen) {
      this.firstSeen = true;
      this.deps.firstTokenSeconds?.observe((performance.now() - this.run.startedAt) / 1000);
    }
  }
}

/** Sends one prompt and reads its answer; `onEvent` null holds everything back. */
async function attempt(
  deps: TurnRunDeps,
  run: TurnRun,
  job: ChatJob,
  onEvent: ((event: AnswerEvent) => Promise<void>) | null,
  onThought: (delta: string) => Promise<void>,
): Promise<Attempt> {
  // A fresh seed per answer: its call ids are its own, and the streamed events and the summary
  // folded from them carry the same ones.
  const stream = new AnswerStream({ ...run.turn, callSeed: randomUUID() });
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
