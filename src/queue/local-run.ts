/**
 * A job that claimLine made active for this process runs here at once, with the processor BullMQ's
 * worker would call, instead of waiting for the worker to wake and move it to active. This keeps
 * what BullMQ's worker keeps: the job's lock is renewed while it runs (so no stalled checker takes
 * it), a lost lock aborts it, and its end goes through BullMQ's own moveToFinished.
 */
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging.ts';
import type { Admission } from '../account/index.ts';
import { LOCK_MS, settlesWithin } from './chat-worker.ts';
import { releaseLine, type LineKeys } from './line-claim.ts';
import { JOB_OPTS, localToken } from './line-entry.ts';
import type { PreparedRun, Processor } from './job-processor.ts';
import type { ChatJobData, QueueJobData } from './wire.ts';

/** What running one claimed job needs. */
export interface LocalRun {
  readonly queue: Queue<QueueJobData>;
  /** The command connection (slot release and wake-up). */
  readonly redis: Redis;
  /** The keys of job `id`'s line (its slot is freed here, not by the processor). */
  readonly keysOf: (id: string) => LineKeys;
  readonly id: string;
  readonly data: ChatJobData;
  readonly opts: JobsOptions;
  /** The lock token the claim wrote. */
  readonly token: string;
  readonly lockMs: number;
  readonly process: Processor;
  readonly prepared: PreparedRun;
  readonly logger: Logger;
}

/** Runs the claimed job, then finishes it in BullMQ and wakes a worker if jobs wait. Never throws. */
export async function runClaimedJob(run: LocalRun): Promise<void> {
  const job = new Job<ChatJobData>(run.queue, 'chat', run.data, run.opts, run.id);
  const lockLost = new AbortController();
  const renew = setInterval(() => {
    job.extendLock(run.token, run.lockMs).then(
      (held) => {
        if (!held) {
          lockLost.abort(new Error('The job lost its lock in BullMQ.'));
        }
      },
      // Redis away for a moment: the next renewal may succeed; else the lock runs out as in BullMQ.
      () => undefined,
    );
  }, run.lockMs / 2);
  renew.unref();
  let finished: Promise<void> | null = null;
  const finish = (): Promise<void> => (finished ??= complete(job, run));
  try {
    await run.process(job, run.token, lockLost.signal, {
      ...run.prepared,
      beforeLastWord: () => void finish(),
    });
  } catch (err) {
    run.logger.error('in-process job failed', { jobId: run.id, err });
  } finally {
    clearInterval(renew);
  }
  await finish();
}

/** Moves the job to completed (BullMQ removes it), frees its slot, wakes a worker if jobs wait. */
async function complete(job: Job<ChatJobData>, run: LocalRun): Promise<void> {
  try {
    await job.moveToCompleted(undefined, run.token, false);
  } catch (err) {
    // The lock runs out and the stalled checker fails the job (it never runs again).
    run.logger.warn('could not finish an in-process job in BullMQ', { jobId: run.id, err });
  }
  // Jobs added while the line was held found the queue maxed and woke no worker (one that ends a
  // job through BullMQ fetches the next itself; this is that step here). A lost release expires.
  await releaseLine(run.redis, run.keysOf(run.id), run.id).catch(() => undefined);
}

/** What every claimed job of one queue shares. */
export type LocalRunBase = Pick<LocalRun, 'queue' | 'redis' | 'keysOf' | 'process' | 'logger'>;

/** The claimed jobs running in this process; close() lets them finish. */
export class LocalRuns {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly base: LocalRunBase) {}

  /** Runs the job `id` that claimLine made active for this process, tracked until it ends. */
  start(id: string, data: ChatJobData, admission: Promise<Admission>): void {
    const p = runClaimedJob({
      ...this.base,
      id,
      data,
      opts: JOB_OPTS,
      token: localToken(id),
      lockMs: LOCK_MS,
      // The claim wrote the "sent" mark of a job without inputs.
      prepared: { admission, marked: data.job.inputs.length === 0 },
    });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Lets the running jobs finish within `graceMs`, then aborts them and waits a little more. */
  async finish(graceMs: number, abortRunning: () => void): Promise<void> {
    const all = Promise.all(this.running);
    if (!(await settlesWithin(all, graceMs))) {
      abortRunning();
      await settlesWithin(all, 5000);
    }
  }
}
