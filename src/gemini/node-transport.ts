/**
 * The node transport (GEMINI_TRANSPORT=node, the default): requests sent by this process over
 * undici, as the signed-in browser makes them: the account's cookies attached per URL, and every
 * Set-Cookie from a Google host kept for this client and handed to the cookie source. Cookie
 * values are registered as secrets before anything could log them.
 */
import { AppError } from '../errors.ts';
import { registerCookie, type Logger } from '../logging.ts';
import { GeminiError } from './errors.ts';
import { cookieHeader, mergeCookieLists, parseSetCookies } from './cookies.ts';
import type { HttpClient } from './http.ts';
import type { GoogleTransport } from './transport.ts';
import type { Cookie, CookieSource } from './types.ts';
import { BROWSER_HEADERS, isGoogleHost } from './wire.ts';

/** What the node transport wraps. */
export interface NodeTransportOptions {
  readonly http: HttpClient;
  readonly cookies: CookieSource;
  readonly logger: Logger;
}

/** Wraps the HTTP client with the account's cookies. */
export function createNodeTransport({
  http,
  cookies,
  logger,
}: NodeTransportOptions): GoogleTransport {
  let received: Cookie[] = [];
  return {
    kind: 'node',
    async send(url, req = {}) {
      const target = typeof url === 'string' ? new URL(url) : url;
      const jar = mergeCookieLists(await readCookies(cookies), received);
      jar.forEach(registerCookie);
      const cookie = cookieHeader(jar, target);
      const res = await http.request(target, {
        ...req,
        headers: { ...BROWSER_HEADERS, ...req.headers, ...(cookie ? { cookie } : {}) },
      });
      if (res.setCookies.length > 0 && isGoogleHost(target.hostname)) {
        const fresh = parseSetCookies(res.setCookies, target);
        fresh.forEach(registerCookie);
        received = mergeCookieLists(received, fresh);
        await absorb(cookies, fresh, logger);
      }
      return res;
    },
    forgetReceivedCookies() {
      received = [];
    },
  };
}

async function readCookies(source: CookieSource): Promise<Cookie[]> {
  try {
    return await source.getCookies();
  } catch (err) {
    if (err instanceof AppError) {
      throw err;
    }
    throw new GeminiError('transient', 'Could not read the account cookies.', { cause: err });
  }
}

async function absorb(source: CookieSource, fresh: Cookie[], logger: Logger): Promise<void> {
  try {
    await source.absorb(fresh);
  } catch (err) {
    // The cookies still serve this process; only the write-back failed.
    logger.warn('could not store received cookies', {
      names: fresh.map((c) => c.name),
      error: err instanceof Error ? err.name : 'unknown error',
    });
  }
}
