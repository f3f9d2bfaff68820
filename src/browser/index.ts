/**
 * @module browser
 * The worker's hold on the person's Chrome: cookies (live over CDP, or cookie_cache.json),
 * keep-alive, login state and screenshots.
 */
export {
  COOKIE_CACHE_FILE,
  FileCookieSource,
  mergeCookies,
  readCookieCache,
  writeCookieCache,
} from './cookie-cache.ts';
