/**
 * How a request enters its account's line: one claimLine round trip takes its queue slot and,
 * when the line is idle and this process runs jobs, makes it BullMQ's active job for this process.
 * The claim's own read of the account's record is that job's admission, so it goes upstream after
 * one round trip; any other job is added to BullMQ (addToLine) and admits itself when a worker
 * runs it.
 * A claim or an add whose reply was lost may have run all the same: the claim is undone, the
 * added job abandoned, so neither holds the line nor sends for a caller that was told 503.
 */
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Admission } from '../account/index.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { LocalRuns } from './local-run.ts';
import { LOCK_MS } from './chat-worker.ts';
import type { CancelRegistry } from './cancel-registry.ts';
import { sentMarkTtlMs } from './job-processor.ts';
import {
  claimLine,
  releaseLine,
  type ClaimAnswer,
  type LineKeys,
  type Undo,
} from './line-claim.ts';
import type { ChatQueueOptions, QueueAccount } from './queue-options.ts';
import { claimOrRefuse, queueUnavailable } from './queue-slots.ts';
import { abandonUnadded, type JobMarks } from './sent-mark.ts';
import { isRpcJobData, type ChatJobData, type QueueJobData, type QueueNames } from './wire.ts';

/** How long an undo of a lost claim is retried: past it, the claim's lock has run out anyway. */
const UNDO_RETRY_MS = LOCK_MS;

/** The BullMQ name of every chat job. */
export const JOB_NAME = 'chat';
/** A job is never run twice (at most once upstream) and leaves nothing behind in Redis. */
export const JOB_OPTS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;

/** The lock token of a job this process claimed for itself. */
export const localToken = (id: string): string => `local:${id}`;

/** How a request entered the line: queued in BullMQ, or claimed active for this process. */
export interface Entry {
  readonly claim: 'queued' | 'running';
  /** A running claim's admission (its own read, or admit() beside it); null when queued. */
  readonly admission: Promise<Admission> | null;
}

/** What entering needs from the ChatQueue. */
export interface EntryContext {
  readonly redis: Redis;
  readonly queue: Queue<QueueJobData>;
  readonly names: QueueNames;
  readonly options: ChatQueueOptions;
  /** The jobs this process runs itself; null while it runs no worker for the queue. */
  readonly localRuns: () => LocalRuns | null;
  /** The queue is closing (its connections are going away). */
  readonly closed: () => boolean;
  readonly logger: Logger;
}

/** Where the account's shared state lives in Redis ('' each when it is not kept there). */
export interface SharedAccountKeys {
  readonly record: string;
  readonly probe: string;
}

/** The shared keys of `account` (see QueueAccount). */
export function sharedAccountKeys(account: QueueAccount): SharedAccountKeys {
  return { record: account.sharedRecordKey ?? '', probe: account.sharedProbe?.key ?? '' };
}

/** The keys of job `id` in the line of `queue`, whose account's shared state is at `shared`. */
export function lineKeys(
  queue: Queue<QueueJobData>,
  names: QueueNames,
  shared: SharedAccountKeys,
  id: string,
): LineKeys {
  const k = queue.keys;
  return {
    slots: names.slots,
    wait: k['wait']!,
    active: k['active']!,
    prioritized: k['prioritized']!,
    meta: k['meta']!,
    stalled: k['stalled']!,
    events: k['events']!,
    marker: k['marker']!,
    job: queue.toKey(id),
    sent: names.sent(id),
    account: shared.record,
    probe: shared.probe,
    undone: names.undone(id),
  };
}

/**
 * Takes a slot (429 when full, 503 when Redis fails) and, if idle, the line for this process.
 * The account's admission is the claim's own read of the shared record when the account keeps
 * it in Redis (one round trip in all); otherwise admit() runs beside the claim.
 */
export async function enterLine(ctx: EntryContext, id: string, data: ChatJobData): Promise<Entry> {
  // A job that just answered here writes its end a moment later, on the connection the claim
  // takes: claiming behind it finds the line free instead of queueing behind a finished job.
  const ending = ctx.localRuns()?.endsWritten();
  if (ending) {
    await ending;
  }
  const { account, queue: limits, requestTimeoutMs } = ctx.options;
  const runsJobs = ctx.localRuns() !== null && !ctx.closed();
  const sharedProbe = account.admitRead && account.sharedProbe;
  const admission = runsJobs && !sharedProbe ? account.admit() : null;
  admission?.catch(() => undefined); // consumed by the job, or released below
  // A probe taken beside a claim that did not run here is given back before the job is added,
  // so that its worker's admit() can take it (else a spurious 429 "probing").
  const release = async (): Promise<void> => {
    const taken = await admission?.catch(() => null);
    if (taken) {
      await account.release(taken).catch(() => undefined);
    }
  };
  const noInputs = data.job.inputs.length === 0;
  const probeToken = runsJobs && sharedProbe ? randomUUID() : '';
  const keys = lineKeys(ctx.queue, ctx.names, sharedAccountKeys(account), id);
  let answer: ClaimAnswer;
  try {
    answer = await claimOrRefuse(
      () =>
        claimLine(ctx.redis, keys, {
          id,
          maxSlots: limits.maxLength,
          // A slot outlives the longest wait plus the longest run; then it frees itself.
          slotTtlMs: limits.waitMs + requestTimeoutMs + 60_000,
          runHere: runsJobs
            ? {
                token: localToken(id),
                lockMs: LOCK_MS,
                name: JOB_NAME,
                data: JSON.stringify(data),
                opts: JSON.stringify(JOB_OPTS),
                sentTtlMs: noInputs ? sentMarkTtlMs(requestTimeoutMs) : null,
                probe:
                  sharedProbe && probeToken
                    ? { token: probeToken, ttlMs: sharedProbe.ttlMs }
                    : null,
              }
            : null,
        }),
      { max: limits.maxLength, retryAfterS: ctx.options.busyRetryAfterS ?? 10 },
    );
  } catch (err) {
    void release();
    if (err instanceof ServiceUnavailableError) {
      // Redis failed to answer: the claim may still have run. Its job would hold the line, locked
      // and never run, until the stalled checker failed it; undo it now.
      undoLostClaim(ctx, keys, id, { token: runsJobs ? localToken(id) : '', probeToken });
    }
    throw err;
  }
  if (answer.claim === 'running') {
    if (answer.account && account.admitRead) {
      const read = account.admitRead(answer.account);
      read.catch(() => undefined); // consumed by the job
      return { claim: 'running', admission: read };
    }
    if (admission) {
      return { claim: 'running', admission };
    }
  }
  await release();
  return { claim: 'queued', admission: null };
}

/**
 * Adds the job to BullMQ (a busy line's way in). On a failure, 503 saying whether the prompt may
 * have gone up: Redis may have run the add though its reply was lost, so a chat job is marked
 * abandoned first and never sends for nobody while the gateway sends the prompt elsewhere.
 */
export async function addToLine(ctx: EntryContext, id: string, data: QueueJobData): Promise<void> {
  const rpc = isRpcJobData(data);
  try {
    await ctx.queue.add(rpc ? 'rpc' : JOB_NAME, data, { ...JOB_OPTS, jobId: id });
  } catch (err) {
    if (rpc) {
      throw queueUnavailable(err);
    }
    throw queueUnavailable(err, await abandonUnadded(jobMarks(ctx, id), err));
  }
}

/** Where job `id`'s sent and abandoned marks live. */
export function jobMarks(
  ctx: Pick<EntryContext, 'redis' | 'names' | 'options' | 'logger'>,
  jobId: string,
): JobMarks {
  const { redis, logger } = ctx;
  const ttlMs = sentMarkTtlMs(ctx.options.requestTimeoutMs);
  return { redis, jobId, sentKey: ctx.names.sent(jobId), ttlMs, logger };
}

/**
 * Undoes what a claim whose reply was lost may have written (its slot, its active job), retrying
 * while Redis cannot answer. On the claim's own connection it runs after the claim did; after that
 * connection dropped, it may run first, and then leaves a tombstone the claim obeys.
 */
function undoLostClaim(
  ctx: EntryContext,
  keys: LineKeys,
  id: string,
  claim: Pick<Undo, 'token' | 'probeToken'>,
): void {
  const log = ctx.logger;
  const giveUpAt = Date.now() + UNDO_RETRY_MS;
  const undo = { ...claim, tombstoneMs: LOCK_MS };
  const attempt = (delayMs: number): void => {
    releaseLine(ctx.redis, keys, id, undo).then(
      (found) => {
        if (found === 'undone') {
          log.warn('undid a line claim whose reply was lost', { jobId: id });
        }
      },
      () => {
        if (Date.now() + delayMs < giveUpAt && !ctx.closed()) {
          setTimeout(() => attempt(Math.min(delayMs * 2, 2000)), delayMs).unref();
        } else {
          // Its job, if the claim ran, holds the line until its lock runs out (30-60 s).
          log.warn('gave up undoing a line claim whose reply was lost', { jobId: id });
        }
      },
    );
  };
  attempt(100);
}

/**
 * The client of job `id` left: the job is removed if it still waits, else whoever runs it is
 * told to stop (at once when it runs here). Resolves true when the job is gone for good (removed,
 * or never added).
 */
export async function leaveLine(
  ctx: Pick<EntryContext, 'redis' | 'queue' | 'names' | 'logger'>,
  id: string,
  started: boolean,
  cancels: Pick<CancelRegistry, 'cancel'>,
): Promise<boolean> {
  try {
    const removed = !started && (await ctx.queue.remove(id)) === 1;
    if (!removed) {
      // A job running here (claimed in process) stops at once, without waiting on Redis.
      cancels.cancel(id);
      await ctx.redis.publish(ctx.names.cancel, id);
    }
    return removed;
  } catch (err) {
    ctx.logger.warn('could not cancel an abandoned job', { jobId: id, err });
    return false;
  }
}
