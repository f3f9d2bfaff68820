/**
 * The StreamGenerate sends of one chat job (DESIGN.md, at most once upstream): a prompt goes up
 * once, and once more only when Google proved it did not take the first; never a third time.
 * The ledger also says whether the prompt may have reached Gemini, which the worker tells the
 * gateway (x-upstream-sent) so that it fails over only when it did not.
 */
import { UpstreamError } from '../errors.ts';
import type { SendGate, SendOutcome } from '../gemini/index.ts';

/** How a ledger is set up. */
export interface SendLedgerOptions {
  /** Most sends for one job (default 2: the first and one proven-safe repeat). */
  readonly maxSends?: number;
  /**
   * Runs before the job's first send: marks the job sent (Redis, SET NX). Throws when the job was
   * sent already by an earlier run, or when the mark cannot be written.
   */
  readonly beforeFirstSend?: () => Promise<void>;
  /** Told every send's outcome (the `gk_upstream_sends_total` counter). */
  readonly onSend?: (outcome: SendOutcome) => void;
}

const PROVEN: ReadonlySet<SendOutcome> = new Set([
  'failed_before_response',
  'http_error',
  'rejected_before_generation',
]);

/** The SendGate of one job run. */
export class SendLedger implements SendGate {
  private readonly outcomes: SendOutcome[] = [];
  private opened = 0;

  constructor(private readonly options: SendLedgerOptions = {}) {}

  /** Sends opened so far. */
  get sends(): number {
    return this.opened;
  }

  /** True once a send may have reached Gemini: one in flight, or one that ended unproven. */
  get mayHaveTaken(): boolean {
    return this.opened > this.outcomes.length || this.outcomes.some((o) => !PROVEN.has(o));
  }

  /** Whether one more send is allowed: budget left, and every earlier send a proven rejection. */
  canResend(): boolean {
    return this.opened < (this.options.maxSends ?? 2) && !this.mayHaveTaken;
  }

  async open(): Promise<void> {
    if (!this.canResend()) {
      // The client and runGuarded ask canResend() first; this is the last line of defence.
      throw new UpstreamError('The prompt was not sent again: Gemini may already have it.', {
        code: 'upstream_send_refused',
        upstreamSent: this.mayHaveTaken,
      });
    }
    if (this.opened === 0) {
      await this.options.beforeFirstSend?.();
    }
    this.opened += 1;
  }

  close(outcome: SendOutcome): void {
    this.outcomes.push(outcome);
    this.options.onSend?.(outcome);
  }
}

/**
 * The gate a run hands its client: the ledger, with every Google touch (a session load, the first
 * send) held until `admitted` resolves and refused with its error if it rejects. The client builds
 * its request meanwhile, so the admission's wait (the line's claim, in process) overlaps that work.
 */
export function admittedGate(ledger: SendLedger, admitted: Promise<unknown>): SendGate {
  return {
    ready: async () => {
      await admitted;
    },
    open: async () => {
      await admitted;
      await ledger.open();
    },
    canResend: () => ledger.canResend(),
    close: (outcome) => ledger.close(outcome),
  };
}
