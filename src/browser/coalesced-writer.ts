/**
 * Durable writes off the request path: callers hand over the newest state and return at once;
 * one write runs at a time, and what piles up meanwhile folds into a single next write, so the
 * latest state wins however many requests changed it. Failures are logged once per change
 * between failing and working, never thrown at a caller and never left unhandled.
 */
import type { Logger } from '../logging.ts';
import { describeError } from './cdp-connection.ts';

/** How a CoalescedWriter writes, folds and reports. */
export interface CoalescedWriterOptions<T> {
  /** What the log lines call this write, e.g. `cookie_cache.json`. */
  readonly what: string;
  readonly write: (value: T) => Promise<void>;
  /** Folds a newer value into one not yet written; by default the newer replaces it. */
  readonly fold?: (pending: T, newer: T) => T;
  /** Least time between the starts of two writes; 0 writes as soon as the last one ends. */
  readonly minIntervalMs?: number;
  readonly logger: Logger;
  /** Called after each write that succeeded, with the value written. */
  readonly onWritten?: (value: T) => void;
  /** Called after each attempt, failed or not (what it tried is no longer pending). */
  readonly onSettled?: (value: T) => void;
}

/** At most one write in flight; the latest state wins; rate-limited; flushed on close. */
export class CoalescedWriter<T> {
  private pending: { value: T } | null = null;
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private failing = false;
  private closed = false;

  constructor(private readonly o: CoalescedWriterOptions<T>) {}

  /** Queues `value` for writing and returns at once. Ignored after close(). */
  schedule(value: T): void {
    if (this.closed) {
      return;
    }
    const { fold } = this.o;
    this.pending = this.pending && fold ? { value: fold(this.pending.value, value) } : { value };
    this.kick(false);
  }

  /** Whether something is queued or being written. */
  get busy(): boolean {
    return this.pending !== null || this.inFlight !== null;
  }

  /** Writes what is queued now (ignoring the interval) and resolves once nothing is left. */
  async flush(): Promise<void> {
    while (this.busy) {
      this.kick(true);
      await this.inFlight;
    }
  }

  /** Flushes, then refuses further values. Idempotent. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Starts the next write when none runs and the interval allows (or `now`). */
  private kick(now: boolean): void {
    if (this.inFlight || !this.pending) {
      return;
    }
    const waitMs = this.lastStartAt + (this.o.minIntervalMs ?? 0) - Date.now();
    if (!now && waitMs > 0) {
      // unref: a process that ends without close() must not be held open by a debounce.
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.kick(true);
      }, waitMs).unref();
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const { value } = this.pending;
    this.pending = null;
    this.lastStartAt = Date.now();
    this.inFlight = this.run(value)
      .catch(() => {}) // run() handles its errors; this only guards a throwing callback.
      .finally(() => {
        this.inFlight = null;
        this.kick(false);
      });
  }

  private async run(value: T): Promise<void> {
    const log = this.o.logger;
    try {
      await this.o.write(value);
      if (this.failing) {
        log.info(`${this.o.what}: writing works again`);
      }
      this.failing = false;
      this.o.onWritten?.(value);
    } catch (err) {
      if (!this.failing) {
        log.warn(`${this.o.what}: write failed; newer states will be tried`, {
          error: describeError(err),
        });
      } else {
        log.debug(`${this.o.what}: write still failing`, { error: describeError(err) });
      }
      this.failing = true;
    } finally {
      this.o.onSettled?.(value);
    }
  }
}
