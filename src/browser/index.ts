/**
 * @module browser
 * The worker's hold on the person's Chrome: cookies (live over CDP, or cookie_cache.json),
 * keep-alive, login state and screenshots.
 */
export {
  COOKIE_CACHE_FILE,
  FileCookieSource,
  type FileCookieSourceOptions,
  mergeCookies,
  readCookieCache,
  writeCookieCache,
} from './cookie-cache.ts';
export { backoffDelayMs, jitteredDelayMs, type BackoffOptions } from './backoff.ts';
export {
  browserUnreachableError,
  loginRequiredError,
  LOGIN_RETRY_AFTER_S,
  UNREACHABLE_RETRY_AFTER_S,
} from './browser-errors.ts';
export { BrowserSession } from './browser-session.ts';
export {
  createBrowserCookies,
  type BrowserConfig,
  type BrowserCookies,
} from './create-browser-cookies.ts';
export { GOOGLE_COOKIE_URLS, SESSION_COOKIE, isGoogleCookie } from './google-cookies.ts';
export {
  LiveCookieSource,
  type CookieSourceSnapshot,
  type LiveCookieSourceOptions,
} from './live-cookie-source.ts';
export type { LoginState } from './login-state.ts';
export type {
  BrowserSessionOptions,
  BrowserSnapshot,
  LoginStateListener,
} from './browser-session-options.ts';
export { APP_URL, DEFAULT_TAB_MARKER } from './worker-tab.ts';
export { createPageTransport, type PageSource } from './page-transport.ts';
export type { HeldTab } from './browser-session.ts';
