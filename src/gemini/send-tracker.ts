/**
 * How far one StreamGenerate send got, told to the request's SendGate exactly once. The stage
 * decides whether the prompt may be sent again (DESIGN.md, at most once upstream): only a send
 * that Google provably did not take may be repeated.
 */
import { GeminiError, REJECTING_CODES } from './errors.ts';
import type { FramePart } from './parse.ts';
import type { SendGate, SendOutcome, SendStage } from './types.ts';

/** Progress of the send, in order; `rejected` and `http_status` end it. */
type Progress = 'unsent' | 'sending' | 'http_status' | 'accepted' | 'rejected' | 'candidate';

/** What ended a send besides a plain error. */
export interface SettleHow {
  /** The stall watchdog fired. */
  readonly stalled?: boolean;
  /** The caller aborted (client gone, job timeout, shutdown). */
  readonly aborted?: boolean;
}

/** One send's tracker. */
export interface SendTracker {
  readonly stage: Progress;
  /** Asks the gate for the send (it may refuse by throwing); marks the request as going out. */
  open(): Promise<void>;
  /** The send got this far. */
  reached(progress: 'http_status' | 'accepted'): void;
  /** Notes what a frame part says: a candidate came, or an in-band code rejected the request. */
  see(part: FramePart): void;
  /**
   * Ends the send: `failure` null for a complete answer. Returns the error to throw, a
   * GeminiError carrying its stage. Later calls change nothing.
   */
  settle(failure: unknown, how?: SettleHow): unknown;
}

const STAGE_OF: Record<Exclude<Progress, 'unsent'>, SendStage> = {
  sending: 'before_response',
  http_status: 'http_status',
  rejected: 'rejected_before_generation',
  accepted: 'after_accept',
  candidate: 'after_accept',
};

const OUTCOME_OF: Record<SendStage, SendOutcome> = {
  before_response: 'failed_before_response',
  http_status: 'http_error',
  rejected_before_generation: 'rejected_before_generation',
  no_response: 'no_response',
  after_accept: 'cut_after_accept',
};

/** A tracker reporting to `gate` (which may be absent: then it only labels errors). */
export function createSendTracker(gate: SendGate | undefined): SendTracker {
  let progress: Progress = 'unsent';
  let settled = false;
  return {
    get stage() {
      return progress;
    },
    async open() {
      await gate?.open();
      progress = 'sending';
    },
    reached(next) {
      progress = next;
    },
    see(part) {
      if (part.kind === 'payload' && part.candidate) {
        progress = 'candidate';
      } else if (
        part.kind === 'error' &&
        progress === 'accepted' &&
        REJECTING_CODES.has(part.code)
      ) {
        progress = 'rejected';
      }
    },
    settle(failure, how = {}) {
      if (settled || progress === 'unsent') {
        return failure;
      }
      settled = true;
      if (failure === null) {
        gate?.close('accepted');
        return null;
      }
      const stage = stageOf(progress, how);
      const proven = stage !== 'no_response' && stage !== 'after_accept';
      gate?.close(how.aborted && !how.stalled && !proven ? 'aborted' : OUTCOME_OF[stage]);
      return failure instanceof GeminiError ? failure.atStage(stage) : failure;
    },
  };
}

function stageOf(progress: Exclude<Progress, 'unsent'>, how: SettleHow): SendStage {
  if (progress === 'sending' && (how.stalled || how.aborted)) {
    // The request is out and nothing came back: Google may be working on it.
    return 'no_response';
  }
  return STAGE_OF[progress];
}
