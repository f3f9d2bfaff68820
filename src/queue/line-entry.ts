/**
 * How a request enters its account's line: one claimLine round trip takes its queue slot and,
 * when the line is idle and this process runs jobs, makes it BullMQ's active job for this process.
 * The account's admission is read beside that claim, so such a job goes upstream after one round
 * trip; any other job is added to BullMQ and admits itself when a worker runs it.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Admission } from '../account/index.ts';
import { LOCK_MS } from './chat-worker.ts';
import { sentMarkTtlMs } from './job-processor.ts';
import { claimLine, type Claim, type LineKeys } from './line-claim.ts';
import type { ChatQueueOptions } from './queue-options.ts';
import { claimOrRefuse } from './queue-slots.ts';
import type { ChatJobData, QueueJobData, QueueNames } from './wire.ts';

/** The BullMQ name of every chat job. */
export const JOB_NAME = 'chat';
/** A job is never run twice (at most once upstream) and leaves nothing behind in Redis. */
export const JOB_OPTS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;

/** The lock token of a job this process claimed for itself. */
export const localToken = (id: string): string => `local:${id}`;

/** How a request entered the line: queued in BullMQ, or claimed active for this process. */
export interface Entry {
  readonly claim: Exclude<Claim, 'full'>;
  /** The admission read beside a claim that runs here; null when queued. */
  readonly admission: Promise<Admission> | null;
}

/** What entering needs from the ChatQueue. */
export interface EntryContext {
  readonly redis: Redis;
  readonly queue: Queue<QueueJobData>;
  readonly names: QueueNames;
  readonly options: ChatQueueOptions;
  /** This process runs a worker for the queue (and is not closing). */
  readonly runsJobs: () => boolean;
}

function lineKeys(ctx: EntryContext, id: string): LineKeys {
  const k = ctx.queue.keys;
  return {
    slots: ctx.names.slots,
    wait: k['wait']!,
    active: k['active']!,
    prioritized: k['prioritized']!,
    meta: k['meta']!,
    job: ctx.queue.toKey(id),
    sent: ctx.names.sent(id),
  };
}

/** Takes a slot (429 when full, 503 when Redis fails) and, if idle, the line for this process. */
export async function enterLine(ctx: EntryContext, id: string, data: ChatJobData): Promise<Entry> {
  const { account, queue: limits, requestTimeoutMs } = ctx.options;
  const runsJobs = ctx.runsJobs();
  const admission = runsJobs ? account.admit() : null;
  admission?.catch(() => undefined); // consumed by the job, or released below
  const release = (): void =>
    void admission?.then(
      (a) => account.release(a),
      () => undefined,
    );
  const noInputs = data.job.inputs.length === 0;
  let claim: Exclude<Claim, 'full'>;
  try {
    claim = await claimOrRefuse(
      () =>
        claimLine(ctx.redis, lineKeys(ctx, id), {
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
              }
            : null,
        }),
      { max: limits.maxLength, retryAfterS: ctx.options.busyRetryAfterS ?? 10 },
    );
  } catch (err) {
    release();
    throw err;
  }
  if (claim === 'running' && admission) {
    return { claim, admission };
  }
  release();
  return { claim: 'queued', admission: null };
}
