/**
 * This process's BullMQ worker for one account's queue: one job at a time, never a job twice,
 * and a shutdown that cannot hang on a Redis that went away.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging.ts';
import type { Processor } from './job-processor.ts';
import { createWorkerRedis } from './redis-clients.ts';
import type { QueueJobData } from './wire.ts';

/** How long a running job's lock lasts unless renewed (BullMQ's default; renewed at half). */
export const LOCK_MS = 30_000;

export interface ChatWorkerOptions {
  readonly queueName: string;
  readonly prefix: string;
  readonly redisUrl: string;
  /** The queue's processor (createProcessor), shared with the jobs it runs in process. */
  readonly processor: Processor;
  readonly logger: Logger;
}

/** A running worker and the connection template BullMQ duplicates for it. */
export interface ChatWorker {
  readonly worker: Worker<QueueJobData>;
  readonly template: Redis;
}

export function startChatWorker(options: ChatWorkerOptions): ChatWorker {
  const template = createWorkerRedis(options.redisUrl, {
    name: 'gk-worker',
    logger: options.logger,
  });
  const worker = new Worker<QueueJobData>(options.queueName, options.processor, {
    connection: template,
    prefix: options.prefix,
    concurrency: 1,
    // A stalled or restarted job could send a prompt upstream twice: never run one again.
    maxStalledCount: 0,
    maxStartedAttempts: 1,
    lockDuration: LOCK_MS,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
    // Redis back after an outage: pick up work within a second, not BullMQ's default 15 s.
    runRetryDelay: 1000,
  });
  worker.on('error', (err) => options.logger.debug('worker error', { err: err.message }));
  worker.on('failed', (job, err) =>
    options.logger.warn('job failed in BullMQ', { jobId: job?.id, err: err.message }),
  );
  return { worker, template };
}

export interface StopOptions {
  /** Whether Redis answers now. */
  readonly redisUp: boolean;
  readonly graceMs: number;
  /** Aborts the jobs running here. */
  readonly abortRunning: () => void;
}

/** Lets a running job finish within the grace period, then aborts it; never hangs on Redis. */
export async function stopChatWorker(w: ChatWorker, options: StopOptions): Promise<void> {
  if (!options.redisUp) {
    // With Redis away a graceful close waits forever for its QUIT: force it (disconnect).
    options.abortRunning();
    await settlesWithin(
      w.worker.close(true).catch(() => undefined),
      2000,
    );
  } else {
    const closed = w.worker.close().catch(() => undefined);
    if (!(await settlesWithin(closed, options.graceMs))) {
      options.abortRunning();
      await settlesWithin(closed, 5000);
    }
  }
  w.template.disconnect();
}

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
