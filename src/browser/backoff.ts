/**
 * Delay math for the session's timers: reconnect backoff and keep-alive jitter. Pure, so the
 * tests can pin the random source.
 */

/** How reconnect attempts space out. */
export interface BackoffOptions {
  /** Delay before the second attempt (the first one is immediate). */
  readonly initialMs: number;
  readonly factor: number;
  readonly maxMs: number;
}

/** Fast at first: Kasm relaunches Chrome about a second after it goes away. */
export const DEFAULT_RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, factor: 2, maxMs: 2000 };

/** Delay before attempt `attempt` (0-based): 0, then initialMs growing by factor up to maxMs. */
export function backoffDelayMs(attempt: number, options: BackoffOptions): number {
  if (attempt <= 0) {
    return 0;
  }
  const raw = options.initialMs * options.factor ** (attempt - 1);
  return Math.min(options.maxMs, Math.max(0, Math.round(raw)));
}

/** `baseMs` spread uniformly over ±`ratio` (0.2 = ±20%), never below 0. */
export function jitteredDelayMs(
  baseMs: number,
  ratio: number,
  random: () => number = Math.random,
): number {
  const spread = baseMs * ratio;
  return Math.max(0, Math.round(baseMs - spread + 2 * spread * random()));
}
