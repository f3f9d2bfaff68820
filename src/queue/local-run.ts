/**
 * A job that claimLine made active for this process runs here at once, with the processor BullMQ's
 * worker would call, instead of waiting for the worker to wake and move it to active. This keeps
 * what BullMQ's worker keeps: the job's lock is renewed while it runs (so no stalled checker takes
 * it), a lost lock aborts it, and its end does what BullMQ's moveToFinished does for such a job
 * (line-end.ts).
 */
import { Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AfterWork } from '../after-work.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { Admission } from '../account/index.ts';
import { LOCK_MS, settlesWithin } from './chat-worker.ts';
import type { LineKeys } from './line-claim.ts';
import type { Entry } from './line-entry.ts';
import { endLine } from './line-end.ts';
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
  /** Where the job's end waits until the next claim here, or a few ms (after-work.ts). */
  readonly afterWork: AfterWork;
  /** Other requests of this process wait behind job `id`: its end is not put off. */
  readonly waitersBehind: (id: string) => boolean;
  /** The process is stopping: the end is not put off either. */
  readonly closing: () => boolean;
}

/** Runs the claimed job, then finishes it in BullMQ and wakes a worker if jobs wait. Never throws. */
export async function runClaimedJob(run: LocalRun, endPending: () => () => void): Promise<void> {
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
  const { claimed } = run.prepared;
  // A job its claim queued is not this process's to end: the run that takes it from BullMQ does.
  const finish = (): Promise<void> =>
    (finished ??= claimed
      ? claimed.then((mine) => (mine ? complete(run, endPending()) : undefined))
      : complete(run, endPending()));
  try {
    await run.process(job, run.token, lockLost.signal, {
      ...run.prepared,
      afterLastWord: () => void finish(),
    });
  } catch (err) {
    run.logger.error('in-process job failed', { jobId: run.id, err });
  } finally {
    clearInterval(renew);
  }
  await finish();
}

/**
 * Ends the job in BullMQ and frees its slot (endLine: one script, one write), then calls
 * `onEndWritten` once that end is on its way to Redis ahead of anything sent later on the same
 * connection (a next claim must land after it, or it finds the line still held).
 *
 * The end is after-work: it waits a few ms, or until a claim in this process needs the line, so
 * that a request which follows the answer at once goes upstream first. Other processes see the
 * line free those few ms later. On a connection that is not ready the end is queued by ioredis;
 * then `onEndWritten` waits for its answer.
 */
function complete(run: LocalRun, onEndWritten: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const write = (): void => {
      const ready = run.redis.status === 'ready';
      const ended = endLine(run.redis, run.keysOf(run.id), run.id, run.token).catch(
        (err: unknown) => {
          // The lock runs out and the stalled checker fails the job (it never runs again).
          run.logger.warn('could not finish an in-process job in BullMQ', { jobId: run.id, err });
        },
      );
      if (ready) {
        onEndWritten();
      }
      void ended.then(() => {
        if (!ready) {
          onEndWritten();
        }
        resolve();
      });
    };
    // Queued jobs wait for this end to wake a worker: it goes after the last reply, no later.
    if (run.waitersBehind(run.id) || run.closing()) {
      setImmediate(write);
    } else {
      run.afterWork.later(write);
    }
  });
}

/** What every claimed job of one queue shares. */
export type LocalRunBase = Pick<
  LocalRun,
  'queue' | 'redis' | 'keysOf' | 'process' | 'logger' | 'waitersBehind'
> & { readonly endDelayMs?: number | undefined };

/** Why an early run's send is refused when its claim queued the job. It never reaches a client. */
function lineBusy(): ServiceUnavailableError {
  return new ServiceUnavailableError("The account's line is busy; the job waits its turn.", 1, {
    code: 'line_busy',
    upstreamSent: false,
  });
}

/** How long a claim waits for a finished local job's end to be written (Redis away: longer). */
const ENDING_WAIT_MS = 1000;

/** The claimed jobs running in this process; close() lets them finish. */
export class LocalRuns {
  private readonly running = new Set<Promise<void>>();
  /** The ends of jobs that answered here, until a claim needs the line or a few ms pass. */
  private readonly afterWork: AfterWork;
  private closing = false;
  /** Jobs whose end in BullMQ is not written yet, each resolved once it is. */
  private readonly ending = new Map<string, Promise<void>>();

  constructor(private readonly base: LocalRunBase) {
    this.afterWork = new AfterWork(base.endDelayMs);
  }

  /**
   * Starts job `id` beside its claim, before Redis answers (`entering`): the run builds its request
   * meanwhile and sends it once the claim made the line this process's. If the claim queued the
   * job instead (another process holds the line) or failed, the run ends without a word and the
   * job takes BullMQ's way (ChatQueue). Only for a job with nothing to upload; false when not
   * started.
   */
  startEarly(id: string, data: ChatJobData, entering: Promise<Entry>): boolean {
    if (this.closing || data.job.inputs.length > 0) {
      return false;
    }
    const claimed = entering.then(
      (entry) => entry.claim === 'running',
      () => false,
    );
    const admission = entering.then((entry) => entry.admission ?? Promise.reject(lineBusy()));
    admission.catch(() => undefined); // the run's gate reports it, or the run ends first
    this.start(id, data, admission, claimed);
    return true;
  }

  /** Runs the job `id` that claimLine made active for this process, tracked until it ends. */
  start(
    id: string,
    data: ChatJobData,
    admission: Promise<Admission>,
    claimed?: Promise<boolean>,
  ): void {
    const p = runClaimedJob(
      {
        ...this.base,
        id,
        data,
        opts: JOB_OPTS,
        token: localToken(id),
        lockMs: LOCK_MS,
        afterWork: this.afterWork,
        closing: () => this.closing,
        // The claim wrote the "sent" mark of a job without inputs.
        prepared: { admission, marked: data.job.inputs.length === 0, ...(claimed && { claimed }) },
      },
      () => this.endPending(id),
    );
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /**
   * Writes the ends still waiting out their delay, and resolves once every job that answered
   * here has its end written, or null when none is pending. A claim waits for it: a request that
   * follows an answer at once (the next turn of an agent) would otherwise find the line still held
   * and take BullMQ's slow way in.
   */
  endsWritten(): Promise<unknown> | null {
    this.afterWork.flush();
    if (this.ending.size === 0) {
      return null;
    }
    return settlesWithin(Promise.all(this.ending.values()), ENDING_WAIT_MS);
  }

  /** Marks job `id`'s end as not yet written; the returned function says it is. */
  private endPending(id: string): () => void {
    let written = (): void => undefined;
    this.ending.set(id, new Promise<void>((resolve) => (written = resolve)));
    return () => {
      this.ending.delete(id);
      written();
    };
  }

  /** Lets the running jobs finish within `graceMs`, then aborts them and waits a little more. */
  async finish(graceMs: number, abortRunning: () => void): Promise<void> {
    // Ends waiting out their delay are written now; so is a job's that answers while we wait.
    this.afterWork.flush();
    this.closing = true;
    const all = Promise.all(this.running);
    if (!(await settlesWithin(all, graceMs))) {
      abortRunning();
      await settlesWithin(all, 5000);
    }
  }
}
