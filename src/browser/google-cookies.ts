/**
 * Google cookies between Playwright's shape and ours: which URLs to read them for, which
 * cookies count as Google's, and how to tell whether a jar changed.
 */
import type { BrowserContext, Cookie as PlaywrightCookie } from 'playwright-core';
import { registerCookie } from '../logging.ts';
import type { Cookie } from '../gemini/index.ts';
import { withTimeout } from './with-timeout.ts';

/** The cookie that identifies a signed-in Google session. */
export const SESSION_COOKIE = '__Secure-1PSID';

/** The URLs whose cookies the worker needs: the app, sign-in, the preflight, uploads, images. */
export const GOOGLE_COOKIE_URLS: readonly string[] = [
  'https://gemini.google.com',
  'https://accounts.google.com',
  'https://www.google.com',
  'https://content-push.googleapis.com',
  'https://lh3.googleusercontent.com',
  'https://work.fife.usercontent.google.com',
];

const GOOGLE_DOMAIN = /(^|\.)(google\.com|googleusercontent\.com|googleapis\.com)$/i;

type AddCookie = Parameters<BrowserContext['addCookies']>[0][number];

/** Whether a cookie belongs to one of Google's domains. */
export function isGoogleCookie(cookie: Pick<Cookie, 'domain'>): boolean {
  return GOOGLE_DOMAIN.test(cookie.domain.replace(/^\./, ''));
}

/** Whether the jar holds a (possibly dead) signed-in session. */
export function hasSessionCookie(cookies: readonly Cookie[]): boolean {
  return cookies.some((c) => c.name === SESSION_COOKIE && c.value !== '');
}

/** Playwright's cookie as ours; the value is registered as a secret on the way. */
export function fromPlaywrightCookie(c: PlaywrightCookie): Cookie {
  registerCookie(c);
  const cookie: Cookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path,
    httpOnly: c.httpOnly,
    secure: c.secure,
    sameSite: c.sameSite,
  };
  if (c.expires > 0) {
    cookie.expires = c.expires;
  }
  return cookie;
}

/** Our cookie in the shape `context.addCookies` takes. */
export function toPlaywrightCookie(c: Cookie): AddCookie {
  const out: AddCookie = {
    name: c.name,
    value: c.value,
    domain: c.domain,
    path: c.path || '/',
    secure: c.secure ?? true,
    httpOnly: c.httpOnly ?? false,
  };
  if (c.expires !== undefined && c.expires > 0) {
    out.expires = c.expires;
  }
  if (c.sameSite) {
    out.sameSite = c.sameSite;
  }
  return out;
}

/** A stable digest of what a request would send: names, scopes and values, in any order. */
export function cookieFingerprint(cookies: readonly Cookie[]): string {
  return cookies
    .map((c) => `${c.name}\u0000${c.domain}\u0000${c.path}\u0000${c.value}`)
    .sort()
    .join('\u0001');
}

/** The context's cookies for `urls` (partitioned ones left out), bounded in time. */
export async function readCookies(
  context: BrowserContext,
  urls: readonly string[],
  timeoutMs: number,
): Promise<Cookie[]> {
  const raw = await withTimeout(
    context.cookies([...urls]),
    timeoutMs,
    () => new Error('reading cookies timed out'),
  );
  return raw.filter((c) => c.partitionKey === undefined).map(fromPlaywrightCookie);
}

/** Writes cookies into the context, bounded in time. */
export async function writeCookies(
  context: BrowserContext,
  cookies: readonly Cookie[],
  timeoutMs: number,
): Promise<void> {
  await withTimeout(
    context.addCookies(cookies.map(toPlaywrightCookie)),
    timeoutMs,
    () => new Error('writing cookies timed out'),
  );
}
