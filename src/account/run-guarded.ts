/**
 * The retry and cooldown policy around one generation, exactly as DESIGN.md's failure table says.
 * At most once upstream: a prompt is sent again only when Google proved it did not take it, and
 * never a third time. Everything a job does upstream (uploads, the generation, image downloads)
 * runs here, inside the account's line and after its admission.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { UpstreamOutcomeUnknownError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import {
  isGeminiError,
  provenNotTaken,
  type ChatMetadata,
  type GeminiError,
  type GenerateEvent,
  type GenerateRequest,
  type GenerateResult,
  type SendGate,
  type UploadedFile,
} from '../gemini/index.ts';
import type { ChatJob, JobInput } from './chat-job.ts';
import { SendLedger, admittedGate } from './send-ledger.ts';
import type { AccountGuard, Admission } from './types.ts';

/**
 * The upstream, injected: the gemini client's `generate`, or a fake in tests. It is called before
 * the job's admission has come, so it reaches Google only through `req.gate`: `ready()` before
 * anything, `open()` before each send.
 */
export type Generate = (req: GenerateRequest) => AsyncIterable<GenerateEvent>;

export interface GuardDeps {
  readonly account: AccountGuard;
  readonly generate: Generate;
  /** Pushes one input file upstream (content-push); required when a job has inputs. */
  readonly upload?: (input: JobInput, signal: AbortSignal) => Promise<UploadedFile>;
  /** Downloads and stores the answer's generated images; errors are its own business. */
  readonly storeImages?: (
    result: GenerateResult,
    signal: AbortSignal,
    owner: string,
  ) => Promise<GenerateResult>;
  /** Pause before the single retry of a proven rejection. */
  readonly transientBackoffMs?: number;
  /** Injectable for tests; must reject when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly logger?: Logger;
}

interface Attempt {
  readonly prompt: string;
  readonly chat: ChatMetadata | null;
  readonly inputs: readonly JobInput[];
}

interface RunContext {
  readonly job: ChatJob;
  readonly deps: GuardDeps;
  readonly signal: AbortSignal;
  /** Set once the admission came; until then nothing may reach Google. */
  admission: Admission | null;
  /** The admission, or its refusal (a 429 or 503 AppError). */
  readonly admitted: Promise<Admission>;
  readonly ledger: SendLedger;
  /** The ledger behind the admission: what the client is given (admittedGate). */
  readonly gate: SendGate;
  readonly used: { transient: boolean; replay: boolean };
  /** Files pushed so far, by input: a repeat or a replay never pushes one twice. */
  readonly uploaded: Map<string, UploadedFile>;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepMs(ms, undefined, { signal });

/**
 * Admits the request, uploads its inputs, runs the generation and applies the failure table:
 * quota and ip_blocked cool the account down, auth marks it signed out, a proven rejection is
 * sent once more (twice: a short cooldown), a rejected follow-up is replayed once as a new chat,
 * and a send Gemini may have taken is never repeated (502 upstream_outcome_unknown). `ledger`
 * counts the sends; the caller reads from it whether the prompt may have gone upstream.
 * `admitted`: an admission the caller started already (beside the job's claim of the line).
 * The admission is not awaited first: the client prepares the request while it comes, and nothing
 * reaches Google before it has (the gate holds the session load and the send; uploads wait).
 */
export async function* runGuarded(
  job: ChatJob,
  deps: GuardDeps,
  signal: AbortSignal,
  ledger: SendLedger = new SendLedger(),
  admitted?: Promise<Admission>,
): AsyncGenerator<GenerateEvent, void, undefined> {
  if (signal.aborted) {
    void admitted?.then(
      (a) => deps.account.release(a),
      () => undefined,
    );
  }
  signal.throwIfAborted();
  const pending = admitted ?? deps.account.admit();
  const admitting = pending.then((a) => (ctx.admission = a));
  admitting.catch(() => undefined); // a refusal reaches the run through its gate
  const ctx: RunContext = {
    job,
    deps,
    signal,
    admission: null,
    admitted: admitting,
    ledger,
    gate: admittedGate(ledger, admitting),
    used: { transient: false, replay: false },
    uploaded: new Map(),
  };
  let attempt: Attempt = { prompt: job.prompt, chat: job.chat, inputs: job.inputs };
  let settled = false;
  try {
    for (;;) {
      const progress = { answered: false };
      try {
        const files = await uploadAll(ctx, attempt.inputs);
        yield* attemptOnce(ctx, attempt, files, progress);
        settled = true;
        await deps.account.recordSuccess(await ctx.admitted);
        return;
      } catch (err) {
        const admission = await ctx.admitted.catch(() => null);
        if (admission === null) {
          // Refused (or stopped) before its admission: nothing reached Google, nothing to apply.
          settled = true;
          throw err;
        }
        const next = await decide(ctx, err, progress.answered);
        if (!next) {
          settled = true;
          throw await finalError(ctx, admission, err, progress.answered);
        }
        attempt = next;
      }
    }
  } finally {
    if (!settled) {
      // The consumer went away mid-stream: nothing was learned about the account.
      if (ctx.admission) {
        await deps.account.release(ctx.admission);
      } else {
        void ctx.admitted.then(
          (a) => deps.account.release(a),
          () => undefined,
        );
      }
    }
  }
}

/** Pushes every input file not pushed yet, in order, inside the account's line. */
async function uploadAll(ctx: RunContext, inputs: readonly JobInput[]): Promise<UploadedFile[]> {
  const { upload } = ctx.deps;
  const out: UploadedFile[] = [];
  for (const input of inputs) {
    // Jobs cross Redis as JSON: an input is known by its file and name, not by identity.
    const key = `${input.path}\n${input.fileName}`;
    let file = ctx.uploaded.get(key);
    if (!file) {
      if (!upload) {
        throw new Error('This queue cannot upload files (no upload function was given).');
      }
      await ctx.admitted;
      file = await upload(input, ctx.signal);
      ctx.uploaded.set(key, file);
    }
    out.push(file);
  }
  return out;
}

async function* attemptOnce(
  ctx: RunContext,
  attempt: Attempt,
  files: UploadedFile[],
  progress: { answered: boolean },
): AsyncGenerator<GenerateEvent, void, undefined> {
  const req: GenerateRequest = {
    prompt: attempt.prompt,
    model: ctx.job.model,
    files,
    chat: attempt.chat,
    signal: ctx.signal,
    gate: ctx.gate,
  };
  for await (const event of ctx.deps.generate(req)) {
    if (event.type === 'text' || event.type === 'thought') {
      progress.answered = true;
    }
    if (event.type === 'done' && ctx.deps.storeImages) {
      // Image downloads touch Google with the account's cookies: they belong in its line.
      yield {
        type: 'done',
        result: await ctx.deps.storeImages(event.result, ctx.signal, ctx.job.owner ?? 'anonymous'),
      };
    } else {
      yield event;
    }
  }
}

/** Whether Gemini may have taken the prompt in the attempt that failed with `err`. */
function mayHaveTaken(err: GeminiError, answered: boolean): boolean {
  return answered || (err.stage !== null && !provenNotTaken(err.stage));
}

/** The next attempt, or null when the error is final (finalError then applies its effects). */
async function decide(ctx: RunContext, err: unknown, answered: boolean): Promise<Attempt | null> {
  if (ctx.signal.aborted || !isGeminiError(err) || mayHaveTaken(err, answered)) {
    return null;
  }
  const { job, used, deps } = ctx;
  // A failure before any send (loading the session) costs no send; a send needs the budget.
  if (err.stage !== null && !ctx.ledger.canResend()) {
    return null;
  }
  if (err.kind === 'transient' && !used.transient) {
    used.transient = true;
    deps.logger?.warn('Gemini did not take the prompt; sending it once more', {
      requestId: job.requestId,
      code: err.upstreamCode,
      status: err.httpStatus,
      stage: err.stage,
    });
    await (deps.sleep ?? defaultSleep)(deps.transientBackoffMs ?? 1000, ctx.signal);
    return { prompt: job.prompt, chat: job.chat, inputs: job.inputs };
  }
  if (err.kind === 'followup_rejected' && !used.replay && job.chat && job.replayPrompt !== null) {
    used.replay = true;
    deps.logger?.info('follow-up rejected; replaying as a new chat', { requestId: job.requestId });
    // A replay after a transient retry keeps the retry spent: the account saw one failure already.
    return { prompt: job.replayPrompt, chat: null, inputs: job.replayInputs ?? job.inputs };
  }
  return null;
}

/** Applies a final failure's effect on the account and returns what the client gets. */
async function finalError(
  ctx: RunContext,
  admission: Admission,
  err: unknown,
  answered: boolean,
): Promise<unknown> {
  const { account } = ctx.deps;
  if (ctx.signal.aborted || !isGeminiError(err)) {
    // An abort or a local failure says nothing about the account.
    await account.release(admission);
    return err;
  }
  switch (err.kind) {
    case 'quota':
    case 'ip_blocked': {
      const retryAfterS = await account.coolDown(err.kind, admission);
      return err.withRetryAfter(retryAfterS);
    }
    case 'auth': {
      const retryAfterS = await account.markLoginRequired(admission);
      return err.withRetryAfter(
        retryAfterS,
        "The Google session of this worker is signed out. Sign in to Google in the worker's " +
          'Chrome over VNC; requests resume on their own once it is signed in.',
      );
    }
    case 'transient':
      if (mayHaveTaken(err, answered)) {
        // Cut, stalled or failed after Gemini may have taken it: never sent again, no cooldown.
        await account.release(admission);
        return new UpstreamOutcomeUnknownError(err.message.replace(/\.$/, ''), { cause: err });
      }
      // Rejected again after the repeat: rest briefly rather than hammer a struggling upstream.
      return err.withRetryAfter(await account.coolDown('transient', admission));
    default:
      await account.release(admission);
      return err;
  }
}
