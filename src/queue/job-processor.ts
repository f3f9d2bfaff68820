/**
 * The BullMQ processor: runs one chat job through runGuarded (an rpc job through runRpcJob) and
 * publishes every event to the waiting process's reply channel, in order. A cancel message, the
 * job timeout, or a lost connection aborts the upstream call through one AbortController.
 */
import { setImmediate as afterThisTurn } from 'node:timers/promises';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  SendLedger,
  runGuarded,
  type Admission,
  type CallRpc,
  type GuardDeps,
} from '../account/index.ts';
import { AppError, TimeoutError, serializeError } from '../errors.ts';
import type { SendOutcome } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';
import { ClientCancelledError, type CancelRegistry } from './cancel-registry.ts';
import { runRpcJob } from './rpc-job.ts';
import { abandonedError, isAbandoned, sentMark } from './sent-mark.ts';
import { heldUntil, replySender } from './reply-sender.ts';
import { isRpcJobData, type ChatJobData, type QueueJobData, type ReplyMessage } from './wire.ts';

export interface ProcessorDeps {
  /** Command connection used to publish replies and write the jobs' "sent" marks. */
  readonly publisher: Redis;
  readonly guard: GuardDeps;
  readonly cancels: CancelRegistry;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
  /** Redis key of a job's "sent" mark; absent: no mark (unit tests). */
  readonly sentKey?: (jobId: string) => string;
  /** Counts each upstream send by outcome (`gk_upstream_sends_total`). */
  readonly onUpstreamSend?: (outcome: SendOutcome) => void;
  /** Frees the job's queue slot once it has ended here. */
  readonly releaseSlot?: (jobId: string) => Promise<void>;
  /**
   * Hands a reply straight to the waiting stream when it waits in this process; true when it
   * did (then the reply does not cross Redis).
   */
  readonly deliverLocally?: (replyTo: string, message: ReplyMessage) => boolean;
  /** Runs a batchexecute call for an rpc job; without it rpc jobs fail. */
  readonly rpc?: CallRpc;
  /**
   * config.queue.waitMs: a waiter gives up on a job that has not started by then, so a chat job
   * older than this (plus clock slack) when it starts is dropped without a send.
   */
  readonly maxWaitMs?: number;
}

/**
 * A job claimed straight into the active state by the process whose request waits for it
 * (claimLine): its admission came with the claim, and its "sent" mark, for a job without
 * inputs, was written by the claim itself. It is the job's first run, so it has no mark to find.
 */
export interface PreparedRun {
  readonly admission: Promise<Admission>;
  readonly marked: boolean;
  /**
   * Called once the job's last reply went out: the job's end in BullMQ follows it. The reply does
   * not wait for BullMQ to build its end (its arguments cost a few hundred µs of CPU), and a
   * claim in this process writes a pending end before its own (see LocalRuns).
   */
  readonly afterLastWord?: () => void;
  /**
   * Set when the run started beside its claim, before the claim answered (LocalRuns.startEarly):
   * whether the claim made the line this process's. Until it resolves the run sends nothing, to
   * Google (its admission waits for the claim) or to its client; if false it ends without a word.
   */
  readonly claimed?: Promise<boolean>;
}

/** The function BullMQ's Worker calls for each job (and runClaimedJob, with `prepared`). */
export type Processor = (
  job: Job<QueueJobData>,
  token?: string,
  signal?: AbortSignal,
  prepared?: PreparedRun,
) => Promise<void>;

/** The processor of one queue. */
export function createProcessor(deps: ProcessorDeps): Processor {
  return async (job, _token, signal, prepared) => {
    const id = job.id;
    if (id === undefined) {
      return;
    }
    const data = job.data;
    const isRpc = isRpcJobData(data);
    const controller = new AbortController();
    const untrack = deps.cancels.register(id, controller, !isRpc);
    const timer = setTimeout(() => {
      const s = Math.round(deps.requestTimeoutMs / 1000);
      controller.abort(new TimeoutError(`The request took longer than ${s} s and was stopped.`));
    }, deps.requestTimeoutMs);
    // BullMQ aborts its signal when the job's lock is lost or the worker is force-closed.
    const onLockLost = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onLockLost, { once: true });
    try {
      await (isRpc
        ? runRpcJob(id, data, controller, deps)
        : runJob(id, data, controller, deps, prepared, job.timestamp));
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onLockLost);
      untrack();
      // Not awaited: the job's end must not wait on Redis; a lost release expires by itself.
      // A job run in process has its slot freed with its end in BullMQ (runClaimedJob); an rpc
      // job never took one.
      if (!isRpc && !prepared) {
        void deps.releaseSlot?.(id).catch(() => undefined);
      }
    }
  };
}

async function runJob(
  id: string,
  data: ChatJobData,
  controller: AbortController,
  deps: ProcessorDeps,
  prepared: PreparedRun | undefined,
  addedAt: number,
): Promise<void> {
  const log = deps.logger.child({ jobId: id, requestId: data.job.requestId });
  const send = heldUntil(prepared?.claimed, replySender(id, data.replyTo, controller, deps));
  if (!prepared && deps.maxWaitMs !== undefined && isStale(addedAt, deps.maxWaitMs)) {
    // Its waiter gave up at maxWaitMs and could not remove it (or could not say it gave up).
    log.warn('dropped a job older than any wait for it; nothing was sent', { addedAt });
    await send({ t: 'error', error: serializeError(abandonedError()) }).catch(() => undefined);
    return;
  }
  if (controller.signal.aborted) {
    log.debug('job cancelled before it started');
    void prepared?.admission.then(
      (a) => deps.guard.account.release(a),
      () => undefined,
    );
    return;
  }
  const mark =
    deps.sentKey && !prepared?.marked
      ? sentMark(deps.publisher, deps.sentKey(id), sentMarkTtlMs(deps.requestTimeoutMs))
      : null;
  const hasInputs = data.job.inputs.length > 0;
  // Without inputs nothing but the admission comes between the job's start and its first send,
  // so the mark is written now, beside the admission's read, instead of one round trip later.
  const earlyMark = mark && !hasInputs ? mark.mark() : null;
  earlyMark?.catch(() => undefined); // awaited by the first send, if there is one
  const ledger = new SendLedger({
    ...(mark ? { beforeFirstSend: () => earlyMark ?? mark.mark() } : {}),
    ...(deps.onUpstreamSend ? { onSend: deps.onUpstreamSend } : {}),
  });
  try {
    void send({ t: 'start' });
    // A job that runs again after its worker stopped never sends again: the mark's SET NX refuses
    // it before the first send. One with inputs looks first, so it does not upload them again.
    if (hasInputs && !prepared) {
      await mark?.assertUnsent();
    }
    const events = runGuarded(data.job, deps.guard, controller.signal, ledger, prepared?.admission);
    for await (const event of untilAborted(events, controller.signal)) {
      void send({ t: 'event', event });
      if (event.type === 'done') {
        // The answer is complete. What follows here (the account's bookkeeping, the job's end)
        // waits for the check phase, so that a stream waiting in this process writes its reply
        // first instead of taking turns with it in the microtask queue.
        await afterThisTurn();
      }
    }
    controller.signal.throwIfAborted();
    await send({ t: 'end' });
    prepared?.afterLastWord?.();
  } catch (err) {
    const reason: unknown = controller.signal.reason;
    // Stop the upstream call if the failure was ours (e.g. a publish while Redis is away).
    controller.abort(err);
    if (prepared?.claimed && !(await prepared.claimed)) {
      log.debug('the claim did not make the line ours: the early run ends without a word');
      return;
    }
    if (reason instanceof ClientCancelledError) {
      log.debug('job cancelled by its client');
      return;
    }
    const reported = reason instanceof AppError ? reason : err;
    if (!(reported instanceof AppError)) {
      log.error('chat job failed', { err: reported });
    } else if (isAbandoned(reported)) {
      log.warn('dropped a job whose caller gave up on it; nothing was sent');
    }
    const upstreamSent = (reported as AppError).upstreamSent === true || ledger.mayHaveTaken;
    const error = serializeError(reported, { upstreamSent });
    await send({ t: 'error', error }).catch(() => undefined);
    prepared?.afterLastWord?.();
  }
}

/** Slack on a job's age for the clocks of the process that added it and the one that runs it. */
const CLOCK_SLACK_MS = 10_000;

/** A job added `addedAt` (its adder's clock) that nobody can still be waiting for. */
function isStale(addedAt: number, maxWaitMs: number): boolean {
  return addedAt > 0 && Date.now() - addedAt > maxWaitMs + CLOCK_SLACK_MS;
}

/** How long a job's "sent" mark is kept: longer than any run of the job. */
export function sentMarkTtlMs(requestTimeoutMs: number): number {
  return requestTimeoutMs + 3_600_000;
}

/**
 * Stops reading `source` as soon as `signal` aborts, even if the source ignores the signal: an
 * upstream call stuck on a dead socket must not hold the account's single line forever.
 */
async function* untilAborted<T>(source: AsyncGenerator<T>, signal: AbortSignal): AsyncGenerator<T> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
  });
  aborted.catch(() => undefined);
  if (signal.aborted) {
    onAbort();
  }
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const r = await Promise.race([source.next(), aborted]);
      if (r.done) {
        return;
      }
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // Not awaited: a source that ignores its signal may never finish.
    void source.return(undefined).catch(() => undefined);
  }
}
