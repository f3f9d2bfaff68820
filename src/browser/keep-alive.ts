/**
 * The session's one timer. While logged in it reloads the worker's tab every interval ±20%
 * (the page's own scripts then rotate `__Secure-1PSIDTS`; Node never calls RotateCookies).
 * Otherwise it re-checks the login every few seconds, so a person signing in again over VNC is
 * noticed without a restart.
 */
import type { Logger } from '../logging.ts';
import { jitteredDelayMs } from './backoff.ts';
import { describeError } from './cdp-connection.ts';

const KEEP_ALIVE_JITTER = 0.2;

/** What the timer runs, and how often. */
export interface KeepAliveOptions {
  readonly intervalMs: number;
  readonly recheckMs: number;
  readonly random: () => number;
  readonly logger: Logger;
  /** Whether ticks should go on (connected, not closed); a reconnect re-arms the timer. */
  readonly isActive: () => boolean;
  /** Whether the next tick is a keep-alive (true) or a login re-check (false). */
  readonly isLoggedIn: () => boolean;
  readonly keepAlive: () => Promise<unknown>;
  readonly recheck: () => Promise<unknown>;
}

/** A self-rescheduling timer; `stop()` is idempotent, `schedule()` restarts it. */
export class KeepAlive {
  private timer: NodeJS.Timeout | null = null;
  /** When the last keep-alive reload finished, ms epoch; 0 before. */
  lastAt = 0;
  /** When the next keep-alive reload is due, ms epoch; 0 when a re-check is next. */
  nextAt = 0;

  constructor(private readonly o: KeepAliveOptions) {}

  /** Whether a tick is pending. */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  /** (Re)arms the timer for the current state. */
  schedule(): void {
    this.stop();
    if (!this.o.isActive()) {
      return;
    }
    const keepAlive = this.o.isLoggedIn();
    const delayMs = keepAlive
      ? jitteredDelayMs(this.o.intervalMs, KEEP_ALIVE_JITTER, this.o.random)
      : this.o.recheckMs;
    this.nextAt = keepAlive ? Date.now() + delayMs : 0;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick(keepAlive);
    }, delayMs);
    this.timer.unref();
  }

  /** Disarms the timer. */
  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private async tick(keepAlive: boolean): Promise<void> {
    try {
      await (keepAlive ? this.o.keepAlive() : this.o.recheck());
      if (keepAlive) {
        this.lastAt = Date.now();
      }
    } catch (err) {
      this.o.logger.debug('session check failed', { error: describeError(err) });
    }
    // A state change during the tick may have re-armed the timer already.
    if (!this.timer && this.o.isActive()) {
      this.schedule();
    }
  }
}
