/**
 * Public types of one account's state: cooldowns, login state and the half-open probe.
 */
import type { FailureKind } from '../gemini/index.ts';

/** What the worker knows about the Google sign-in in the person's Chrome. */
export type LoginState = 'logged_in' | 'login_required' | 'browser_unreachable' | 'unknown';

/** Why the account rests: a classified upstream failure, or an operator's hand. */
export type CooldownReason = FailureKind | 'manual';

/** A rest period. It stays set after `until` passes, until a probe succeeds (half-open). */
export interface Cooldown {
  /** Epoch ms at which the account may be tried again. */
  readonly until: number;
  readonly reason: CooldownReason;
}

/** `ready` serves; `cooling` refuses; `half_open` lets one probe through; `login_required` refuses. */
export type AccountPhase = 'ready' | 'cooling' | 'half_open' | 'login_required';

/** A point-in-time view for /health, the heartbeat and the dashboard. */
export interface AccountSnapshot {
  readonly account: string;
  readonly phase: AccountPhase;
  /** Set while cooling and while half-open; null once cleared. */
  readonly cooldown: Cooldown | null;
  readonly loginState: LoginState;
  /** A probe request is in flight somewhere (as far as this process last saw). */
  readonly probing: boolean;
  /** Epoch ms of the last successful generation anywhere on this account, if any. */
  readonly lastSuccessAt: number | null;
  /** Whether the shared store (Redis) answered at the last sync. */
  readonly sharedStoreOk: boolean;
}

/** The ticket `admit()` hands out; pass it back when the request settles. */
export interface Admission {
  /** This request is the single half-open probe. */
  readonly probe: boolean;
  /** Lock token of the probe; null when not a probe. */
  readonly token: string | null;
}

/**
 * What the line claim read of the account's shared record in its own step, for admitRead: the
 * hash's fields, whether a probe lock was held, and the probe lock it took itself (the cooldown
 * had ended), if any.
 */
export interface ClaimedAccountRead {
  readonly hash: Readonly<Record<string, string>>;
  readonly probing: boolean;
  readonly probeToken: string | null;
}

/** The part of AccountState that runGuarded needs (a narrow seam for tests). */
export interface AccountGuard {
  /** Resolves when a request may go upstream; throws 429/503 AppErrors otherwise. */
  admit(): Promise<Admission>;
  /** A generation finished: clears login_required and, for a probe, the cooldown. */
  recordSuccess(admission: Admission): Promise<void>;
  /** Starts (or extends) a cooldown; returns the Retry-After seconds to its end. */
  coolDown(reason: CooldownReason, admission?: Admission): Promise<number>;
  /** Marks the session signed out; returns the Retry-After seconds to tell clients. */
  markLoginRequired(admission?: Admission): Promise<number>;
  /** The request ended without telling anything about the account: free its probe, if any. */
  release(admission: Admission): Promise<void>;
}
