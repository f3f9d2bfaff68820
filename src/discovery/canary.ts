/**
 * The canary: a tiny prompt sent through the account every interval (off by default), so that a
 * protocol change shows up in gk_protocol_drift_total before a client meets it. Whatever the
 * parsers cannot read during its turn is counted by the client as usual; an answer without text
 * is counted here. It runs through the account's queue, like any request: serialized, guarded by
 * the cooldown, at most once upstream.
 */
import type { DriftSink } from '../gemini/index.ts';
import type { Logger } from '../logging.ts';

/** What the canary needs. */
export interface CanaryOptions {
  /** GEMINI_CANARY_INTERVAL_S; 0 turns the canary off. */
  readonly intervalMs: number;
  /** Sends the prompt through the account's queue and resolves with the answer text. */
  readonly ask: (prompt: string, signal: AbortSignal) => Promise<string>;
  /** False while the account may not be used (cooling, signed out): the round is skipped. */
  readonly mayRun?: () => boolean;
  readonly onDrift: DriftSink;
  readonly logger: Logger;
}

/** The prompt: short, and answerable by any model. */
export const CANARY_PROMPT = 'Reply with the single word: ok';

/** What /health shows of the canary. */
export interface CanaryReport {
  readonly enabled: boolean;
  readonly runs: number;
  readonly lastRunAt: number | null;
  readonly lastOutcome: 'answered' | 'no_answer' | 'failed' | null;
}

/** A timer that sends the canary prompt. Lifecycle: start(), close() (idempotent). */
export class Canary {
  private timer: NodeJS.Timeout | null = null;
  private readonly lifetime = new AbortController();
  private running: Promise<void> | null = null;
  private runs = 0;
  private lastRunAt: number | null = null;
  private lastOutcome: CanaryReport['lastOutcome'] = null;

  constructor(private readonly options: CanaryOptions) {}

  /** Starts the timer (the first run after one interval); does nothing when disabled. */
  start(): void {
    if (this.options.intervalMs > 0 && this.timer === null && !this.lifetime.signal.aborted) {
      this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  /** One canary round now (a round already running is shared); never throws. */
  runOnce(): Promise<void> {
    this.running ??= this.round().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** The state for /health. */
  report(): CanaryReport {
    return {
      enabled: this.options.intervalMs > 0,
      runs: this.runs,
      lastRunAt: this.lastRunAt,
      lastOutcome: this.lastOutcome,
    };
  }

  /** Stops the timer and aborts a round in flight. */
  async close(): Promise<void> {
    this.lifetime.abort();
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    await this.running;
  }

  private async round(): Promise<void> {
    if (this.options.mayRun && !this.options.mayRun()) {
      return;
    }
    this.runs += 1;
    this.lastRunAt = Date.now();
    try {
      const text = await this.options.ask(CANARY_PROMPT, this.lifetime.signal);
      this.lastOutcome = text.trim() === '' ? 'no_answer' : 'answered';
      if (this.lastOutcome === 'no_answer') {
        this.options.onDrift('canary_no_answer');
      }
    } catch (err) {
      if (this.lifetime.signal.aborted) {
        return;
      }
      // Drift in the reply was counted by the client; other failures are the account's business.
      this.lastOutcome = 'failed';
      this.options.logger.warn('the canary prompt failed', {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
