/**
 * The shapes around a BrowserSession: its options (the first three from the worker's config,
 * the rest tuned for tests) and the snapshot /health shows.
 */
import type { Logger } from '../logging.ts';
import { DEFAULT_RECONNECT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { LoginState } from './login-state.ts';
import { DEFAULT_TAB_MARKER } from './worker-tab.ts';

/** Knobs of a BrowserSession; the first three come from the worker's config. */
export interface BrowserSessionOptions {
  readonly cdpUrl: string;
  /** Mean time between keep-alive reloads of the worker's tab (±20% jitter). */
  readonly keepAliveIntervalMs: number;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
  /** Bound on each quick CDP call (cookies, evaluate, addCookies, screenshot). */
  readonly operationTimeoutMs?: number;
  /** Bound on opening or reloading the worker's tab. */
  readonly navigationTimeoutMs?: number;
  /** How often the state is re-checked while it is not logged_in. */
  readonly loginRecheckMs?: number;
  /** While re-checking, the tab is reloaded at most this often. */
  readonly loginReloadMinMs?: number;
  readonly reconnectBackoff?: BackoffOptions;
  /** How long a reload waits for the page transport's fetches in flight to end. */
  readonly tabHoldMaxWaitMs?: number;
  readonly tabMarker?: string;
  readonly random?: () => number;
}

/** What /health shows about the browser. Holds no cookie values. */
export interface BrowserSnapshot {
  readonly loginState: LoginState;
  readonly connected: boolean;
  readonly browserVersion: string | null;
  readonly tabOpen: boolean;
  readonly reconnects: number;
  readonly connectedAt: string | null;
  readonly disconnectedAt: string | null;
  readonly lastKeepAliveAt: string | null;
  readonly nextKeepAliveAt: string | null;
  readonly lastLoginCheckAt: string | null;
  readonly lastError: string | null;
}

/** Called with the new and the previous state whenever the login state changes. */
export type LoginStateListener = (state: LoginState, previous: LoginState) => void;

/** Defaults for the optional knobs. */
export const SESSION_DEFAULTS = {
  connectTimeoutMs: 10_000,
  operationTimeoutMs: 5_000,
  navigationTimeoutMs: 30_000,
  loginRecheckMs: 3_000,
  loginReloadMinMs: 10_000,
  reconnectBackoff: DEFAULT_RECONNECT_BACKOFF,
  tabHoldMaxWaitMs: 300_000,
  tabMarker: DEFAULT_TAB_MARKER,
  random: Math.random,
};
