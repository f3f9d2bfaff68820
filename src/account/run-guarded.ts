/**
 * The retry and cooldown policy around one generation, exactly as DESIGN.md's failure table says.
 * Nothing is sent upstream twice once answer text has been yielded.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Logger } from '../logging.ts';
import {
  isGeminiError,
  type ChatMetadata,
  type GenerateEvent,
  type GenerateRequest,
  type ModelSpec,
  type UploadedFile,
} from '../gemini/index.ts';
import type { AccountGuard, Admission } from './types.ts';

/** The upstream, injected: the gemini client's `generate`, or a fake in tests. */
export type Generate = (req: GenerateRequest) => AsyncIterable<GenerateEvent>;

/** One chat request as it travels through the queue. Never carries cookies. */
export interface ChatJob {
  readonly requestId: string;
  readonly model: ModelSpec;
  readonly prompt: string;
  readonly files: UploadedFile[];
  /** Continue this chat; null for a new one. */
  readonly chat: ChatMetadata | null;
  /** The prompt that carries the whole history, used if Gemini rejects the follow-up (1097). */
  readonly replayPrompt: string | null;
}

export interface GuardDeps {
  readonly account: AccountGuard;
  readonly generate: Generate;
  /** Pause before the single transient retry. */
  readonly transientBackoffMs?: number;
  /** Injectable for tests; must reject when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly logger?: Logger;
}

interface Attempt {
  readonly prompt: string;
  readonly chat: ChatMetadata | null;
}

interface RunContext {
  readonly job: ChatJob;
  readonly deps: GuardDeps;
  readonly signal: AbortSignal;
  readonly admission: Admission;
  readonly used: { transient: boolean; replay: boolean };
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepMs(ms, undefined, { signal });

/**
 * Admits the request, runs the generation and applies the failure table: quota and ip_blocked cool
 * the account down, auth marks it signed out, a transient failure is retried once (twice: a short
 * cooldown), a rejected follow-up is replayed once as a new chat, a model error passes through.
 */
export async function* runGuarded(
  job: ChatJob,
  deps: GuardDeps,
  signal: AbortSignal,
): AsyncGenerator<GenerateEvent, void, undefined> {
  signal.throwIfAborted();
  const admission = await deps.account.admit();
  const ctx: RunContext = {
    job,
    deps,
    signal,
    admission,
    used: { transient: false, replay: false },
  };
  let attempt: Attempt = { prompt: job.prompt, chat: job.chat };
  let settled = false;
  try {
    for (;;) {
      const progress = { answered: false };
      try {
        yield* attemptOnce(ctx, attempt, progress);
        settled = true;
        await deps.account.recordSuccess(admission);
        return;
      } catch (err) {
        const next = await decide(ctx, err, progress.answered);
        if (!next) {
          settled = true;
          throw await finalError(ctx, err, progress.answered);
        }
        attempt = next;
      }
    }
  } finally {
    if (!settled) {
      // The consumer went away mid-stream: nothing was learned about the account.
      await deps.account.release(admission);
    }
  }
}

async function* attemptOnce(
  ctx: RunContext,
  attempt: Attempt,
  progress: { answered: boolean },
): AsyncGenerator<GenerateEvent, void, undefined> {
  const req: GenerateRequest = {
    prompt: attempt.prompt,
    model: ctx.job.model,
    files: ctx.job.files,
    chat: attempt.chat,
    signal: ctx.signal,
  };
  for await (const event of ctx.deps.generate(req)) {
    if (event.type === 'text' || event.type === 'thought') {
      progress.answered = true;
    }
    yield event;
  }
}

/** The next attempt, or null when the error is final (finalError then applies its effects). */
async function decide(ctx: RunContext, err: unknown, answered: boolean): Promise<Attempt | null> {
  if (ctx.signal.aborted || !isGeminiError(err) || answered) {
    return null;
  }
  const { job, used, deps } = ctx;
  if (err.kind === 'transient' && !used.transient) {
    used.transient = true;
    deps.logger?.warn('transient upstream failure; retrying once', {
      requestId: job.requestId,
      code: err.upstreamCode,
      status: err.httpStatus,
    });
    await (deps.sleep ?? defaultSleep)(deps.transientBackoffMs ?? 1000, ctx.signal);
    return { prompt: job.prompt, chat: job.chat };
  }
  if (err.kind === 'followup_rejected' && !used.replay && job.chat && job.replayPrompt !== null) {
    used.replay = true;
    deps.logger?.info('follow-up rejected; replaying as a new chat', { requestId: job.requestId });
    // A replay after a transient retry keeps the retry spent: the account saw one failure already.
    return { prompt: job.replayPrompt, chat: null };
  }
  return null;
}

/** Applies a final failure's effect on the account and returns what the client gets. */
async function finalError(ctx: RunContext, err: unknown, answered: boolean): Promise<unknown> {
  const { account } = ctx.deps;
  if (ctx.signal.aborted || !isGeminiError(err)) {
    // An abort or a local failure says nothing about the account.
    await account.release(ctx.admission);
    return err;
  }
  switch (err.kind) {
    case 'quota':
    case 'ip_blocked': {
      const retryAfterS = await account.coolDown(err.kind, ctx.admission);
      return err.withRetryAfter(retryAfterS);
    }
    case 'auth': {
      const retryAfterS = await account.markLoginRequired(ctx.admission);
      return err.withRetryAfter(
        retryAfterS,
        "The Google session of this worker is signed out. Sign in to Google in the worker's " +
          'Chrome over VNC; requests resume on their own once it is signed in.',
      );
    }
    case 'transient':
      if (!answered) {
        // Failed again after the retry: rest briefly rather than hammer a struggling upstream.
        return err.withRetryAfter(await account.coolDown('transient', ctx.admission));
      }
      await account.release(ctx.admission);
      return err;
    default:
      await account.release(ctx.admission);
      return err;
  }
}
