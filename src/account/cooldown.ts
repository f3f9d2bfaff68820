/**
 * Pure rules of an account's rest: how long, which phase, and what a refused client is told.
 */
import { RateLimitError, ServiceUnavailableError } from '../errors.ts';
import type { AccountPhase, Cooldown, CooldownReason, LoginState } from './types.ts';

/** Cooldown lengths, from config.cooldown. */
export interface CooldownConfig {
  readonly quotaMs: number;
  readonly jitterMs: number;
  readonly transientMs: number;
}

/** Seconds from `nowMs` to `untilMs`, at least 1 (Retry-After). */
export function retryAfterSeconds(untilMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
}

/** The cooldown that ends later; either may be null. */
export function laterOf(a: Cooldown | null, b: Cooldown | null): Cooldown | null {
  if (!a || !b) {
    return a ?? b;
  }
  return b.until > a.until ? b : a;
}

export function sameCooldown(a: Cooldown | null, b: Cooldown | null): boolean {
  return a?.until === b?.until && a?.reason === b?.reason;
}

/**
 * A cooldown starting at `nowMs`: quota, ip_blocked and manual rest `quotaMs`, anything else
 * `transientMs`, unless `durationMs` says otherwise; plus jitter in [0, jitterMs).
 */
export function newCooldown(
  reason: CooldownReason,
  nowMs: number,
  config: CooldownConfig,
  random: () => number,
  durationMs?: number,
): Cooldown {
  const longRest = reason === 'quota' || reason === 'ip_blocked' || reason === 'manual';
  const baseMs = durationMs ?? (longRest ? config.quotaMs : config.transientMs);
  // Jitter is capped at half the base so a short transient rest stays short.
  const jitterMs = Math.floor(random() * Math.min(config.jitterMs, baseMs / 2));
  return { until: nowMs + baseMs + jitterMs, reason };
}

/** Where the account stands at `nowMs`. */
export function phaseOf(
  loginState: LoginState,
  cooldown: Cooldown | null,
  nowMs: number,
): AccountPhase {
  if (loginState === 'login_required') {
    return 'login_required';
  }
  if (!cooldown) {
    return 'ready';
  }
  return nowMs < cooldown.until ? 'cooling' : 'half_open';
}

/** 429 while the account rests, Retry-After to the end of the rest. */
export function coolingError(cooldown: Cooldown, nowMs: number): RateLimitError {
  const s = retryAfterSeconds(cooldown.until, nowMs);
  return new RateLimitError(
    `The Gemini account is cooling down (${cooldown.reason}); retry in ${s} s.`,
    s,
    { code: 'account_cooling_down' },
  );
}

/** 429 while another request probes the account after its rest. */
export function probingError(retryAfterS: number): RateLimitError {
  return new RateLimitError(
    'The Gemini account is being re-tested after a cooldown; retry shortly.',
    retryAfterS,
    { code: 'account_probing' },
  );
}

/** What a client is told while the Google session is signed out. */
export const SIGNED_OUT_MESSAGE =
  "The Google account of this worker is signed out. Sign in to Google in the worker's Chrome " +
  'over VNC; requests resume on their own once it is signed in.';

/** 503 while the Google session is signed out. */
export function loginRequiredError(retryAfterS: number): ServiceUnavailableError {
  return new ServiceUnavailableError(SIGNED_OUT_MESSAGE, retryAfterS, { code: 'login_required' });
}
