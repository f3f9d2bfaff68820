/**
 * Wiring for the worker: a live browser session when CHROME_CDP_URL is set, cookie_cache.json
 * alone when it is `off`.
 */
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Logger } from '../logging.ts';
import type { CookieSource } from '../gemini/index.ts';
import { BrowserSession } from './browser-session.ts';
import { COOKIE_CACHE_FILE, FileCookieSource } from './cookie-cache.ts';
import { LiveCookieSource } from './live-cookie-source.ts';

/** The config slice the browser side needs. */
export type BrowserConfig = Pick<
  Config,
  'cdpUrl' | 'keepAliveIntervalMs' | 'cookieCacheMs' | 'dataDir'
>;

/** What the worker holds: the session (null without a browser) and the cookie source. */
export interface BrowserCookies {
  readonly session: BrowserSession | null;
  readonly cookies: CookieSource;
  /** Closes the source and the session; idempotent. Chrome keeps running. */
  close(): Promise<void>;
}

/**
 * Loads cookie_cache.json and, with a CDP URL, connects to Chrome (never throws when Chrome is
 * away: it reconnects in the background and the saved cookies serve meanwhile).
 */
export async function createBrowserCookies(
  config: BrowserConfig,
  logger: Logger,
): Promise<BrowserCookies> {
  const cacheFile = path.join(config.dataDir, COOKIE_CACHE_FILE);
  if (config.cdpUrl === null) {
    const cookies = new FileCookieSource(cacheFile, { logger });
    return { session: null, cookies, close: () => cookies.close() };
  }
  const session = new BrowserSession({
    cdpUrl: config.cdpUrl,
    keepAliveIntervalMs: config.keepAliveIntervalMs,
    logger,
  });
  const cookies = await LiveCookieSource.create({
    session,
    cacheFile,
    cacheMs: config.cookieCacheMs,
    logger,
  });
  await session.connect();
  let closing: Promise<void> | null = null;
  return {
    session,
    cookies,
    close: () => {
      closing ??= cookies.close().then(() => session.close());
      return closing;
    },
  };
}
