/**
 * The waiting side of a job: buffers its reply messages and turns them back into events,
 * enforcing the queue wait limit, the run timeout, ordering, and liveness of the running worker.
 */
import { ServiceUnavailableError, TimeoutError, parseError } from '../errors.ts';
import type { JobEvent, ReplyMessage } from './wire.ts';

type InboxResult =
  | { readonly kind: 'message'; readonly message: ReplyMessage }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'failed'; readonly error: unknown };

/** Messages for one job, kept until the stream reads them. */
export class ReplyInbox {
  /** The job began running (its `start` arrived, or it could no longer be removed). */
  started = false;
  /** The job's last word (`end` or `error`) arrived, or it was removed unstarted. */
  finished = false;
  private readonly items: ReplyMessage[] = [];
  private failure: { readonly error: unknown } | null = null;
  private wake: (() => void) | null = null;

  push(message: ReplyMessage): void {
    this.items.push(message);
    this.wake?.();
  }

  /** Ends the stream with `error` (the queue is closing). */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake?.();
  }

  /**
   * The next message, or why none came within `timeoutMs`. An abort of `signal` wakes the wait
   * only while `follow` watches it (one listener per stream, not one per message).
   */
  next(timeoutMs: number, signal: AbortSignal): Promise<InboxResult> {
    const ready = this.take(signal);
    if (ready) {
      return Promise.resolve(ready);
    }
    return new Promise((resolve) => {
      const done = (result: InboxResult): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve(result);
      };
      const timer = setTimeout(() => done({ kind: 'timeout' }), Math.max(0, timeoutMs));
      this.wake = () => {
        const r = this.take(signal);
        if (r) {
          done(r);
        }
      };
    });
  }

  /** Wakes a pending next() when `signal` aborts; returns the function that stops watching. */
  watch(signal: AbortSignal): () => void {
    const onAbort = (): void => this.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  }

  private take(signal: AbortSignal): InboxResult | null {
    const message = this.items.shift();
    if (message) {
      return { kind: 'message', message };
    }
    if (this.failure) {
      return { kind: 'failed', error: this.failure.error };
    }
    return signal.aborted ? { kind: 'aborted' } : null;
  }
}

export interface FollowOptions {
  /** Longest wait in the queue before the job starts. */
  readonly waitMs: number;
  /** Longest silence-free run once started (the processor's own timeout plus a margin). */
  readonly runMs: number;
  /** How often a silent wait checks that the job still exists. */
  readonly livenessMs: number;
  /** Retry-After when the queue wait ran out. */
  readonly busyRetryAfterS: number;
  readonly now?: () => number;
}

export interface FollowHooks {
  /** Removes the job if it has not started; true when it was removed. */
  removeIfWaiting(): Promise<boolean>;
  /** The job no longer exists in BullMQ (finished, failed, or lost). */
  isGone(): Promise<boolean>;
}

function workerLost(): ServiceUnavailableError {
  return new ServiceUnavailableError('The worker running this request stopped answering.', 5, {
    code: 'worker_lost',
  });
}

interface FollowState {
  deadline: number;
  expected: number;
  suspect: boolean;
  readonly now: () => number;
}

/** Yields the job's events; throws its error, a timeout, or a 503 when the queue wait ran out. */
export async function* follow(
  inbox: ReplyInbox,
  signal: AbortSignal,
  options: FollowOptions,
  hooks: FollowHooks,
): AsyncGenerator<JobEvent, void, undefined> {
  const now = options.now ?? Date.now;
  const st: FollowState = { deadline: now() + options.waitMs, expected: 0, suspect: false, now };
  // One abort listener for the whole stream: a listener per message costs more than the message.
  const unwatch = inbox.watch(signal);
  try {
    for (;;) {
      const r = await inbox.next(Math.min(st.deadline - now(), options.livenessMs), signal);
      if (r.kind === 'aborted') {
        throw signal.reason ?? new Error('aborted');
      }
      if (r.kind === 'failed') {
        throw r.error;
      }
      if (r.kind === 'timeout') {
        if (now() >= st.deadline) {
          st.deadline = await pastDeadline(inbox, options, hooks, now);
        } else {
          st.suspect = await checkAlive(hooks, st.suspect);
        }
        continue;
      }
      const out = accept(r.message, inbox, st, options);
      if (out === 'end') {
        return;
      }
      if (out !== 'more') {
        yield out;
      }
    }
  } finally {
    unwatch();
  }
}

/** Applies one message: the event to yield, 'more' to keep reading, or 'end'. */
function accept(
  m: ReplyMessage,
  inbox: ReplyInbox,
  st: FollowState,
  options: FollowOptions,
): JobEvent | 'more' | 'end' {
  if (m.seq !== st.expected++) {
    throw workerLost();
  }
  st.suspect = false;
  switch (m.t) {
    case 'start':
      inbox.started = true;
      st.deadline = st.now() + options.runMs;
      return 'more';
    case 'event':
      return m.event;
    case 'end':
      inbox.finished = true;
      return 'end';
    case 'error':
      inbox.finished = true;
      throw parseError(m.error);
  }
}

/** Queue wait over: remove and refuse (503), unless the job just started. Run over: 504. */
async function pastDeadline(
  inbox: ReplyInbox,
  options: FollowOptions,
  hooks: FollowHooks,
  now: () => number,
): Promise<number> {
  if (inbox.started) {
    throw new TimeoutError('The worker did not finish the request in time.');
  }
  if (await hooks.removeIfWaiting()) {
    inbox.finished = true;
    const s = Math.round(options.waitMs / 1000);
    throw new ServiceUnavailableError(
      `The account's queue is busy: the request waited ${s} s without starting.`,
      options.busyRetryAfterS,
      { code: 'queue_wait_timeout' },
    );
  }
  // It could not be removed: it is running now and its `start` is on the way.
  inbox.started = true;
  return now() + options.runMs;
}

/** A job seen gone twice in a row without its last word was lost with its worker. */
async function checkAlive(hooks: FollowHooks, suspect: boolean): Promise<boolean> {
  let gone: boolean;
  try {
    gone = await hooks.isGone();
  } catch (err) {
    throw new ServiceUnavailableError('The queue (Redis) is unavailable.', 5, { cause: err });
  }
  if (gone && suspect) {
    throw workerLost();
  }
  return gone;
}
