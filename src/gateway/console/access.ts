/**
 * @module gateway/console/access
 * Who may use the console: a session cookie (HttpOnly, SameSite=Strict, Secure over https) that
 * names a server-side session made by signing in with an admin key. Every POST also needs the
 * session's CSRF token and a same-origin Origin. A session whose key was revoked ends at once.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthenticationError, ForbiddenError } from '../../errors.ts';
import type { KeyRing } from '../../http/index.ts';
import { sameToken, type ConsoleSession, type SessionStore } from './sessions.ts';

/** The session cookie's name. */
export const SESSION_COOKIE = 'gk_console';
/** The header the console's script sends its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

const cookieAttributes = (req: Request): string =>
  `Path=/; HttpOnly; SameSite=Strict${req.secure ? '; Secure' : ''}`;

/** Sets the session cookie (no Max-Age: it ends with the browser, or at sign-out). */
export function setSessionCookie(req: Request, res: Response, session: ConsoleSession): void {
  res.append('set-cookie', `${SESSION_COOKIE}=${session.id}; ${cookieAttributes(req)}`);
}

/** Clears the session cookie. */
export function clearSessionCookie(req: Request, res: Response): void {
  res.append('set-cookie', `${SESSION_COOKIE}=; Max-Age=0; ${cookieAttributes(req)}`);
}

/** A cookie's value from the request, or null. */
export function readCookie(req: Request, name: string): string | null {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim() || null;
    }
  }
  return null;
}

/** The request's live session whose key is still an admin key, or null. */
export function sessionOf(store: SessionStore, keys: KeyRing, req: Request): ConsoleSession | null {
  const session = store.get(readCookie(req, SESSION_COOKIE));
  if (session && keys.identify(session.key)?.role !== 'admin') {
    store.delete(session.id);
    return null;
  }
  return session;
}

/** The session requireSession() found. */
export function consoleSessionOf(res: Response): ConsoleSession {
  const session = res.locals['consoleSession'] as ConsoleSession | undefined;
  if (!session) {
    throw new AuthenticationError('Sign in to the console first.', { code: 'no_session' });
  }
  return session;
}

/** 401 without a live console session; the session goes to res.locals. */
export function requireSession(store: SessionStore, keys: KeyRing): RequestHandler {
  return function consoleSession(req: Request, res: Response, next: NextFunction): void {
    const session = sessionOf(store, keys, req);
    if (!session) {
      next(new AuthenticationError('Sign in to the console first.', { code: 'no_session' }));
      return;
    }
    res.locals['consoleSession'] = session;
    next();
  };
}

/**
 * True when the request comes from a page of this gateway: its Origin names the Host it was sent
 * to; without an Origin, the browser's Sec-Fetch-Site must say same-origin.
 */
export function isSameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) {
    return req.get('sec-fetch-site') === 'same-origin';
  }
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

/** 403 unless the POST is same-origin; used before a session exists (sign-in). */
export function requireSameOrigin(req: Request, _res: Response, next: NextFunction): void {
  if (!isSameOrigin(req)) {
    next(new ForbiddenError('Cross-origin console requests are refused.', { code: 'bad_origin' }));
    return;
  }
  next();
}

/** After requireSession(): 403 unless same-origin and carrying the session's CSRF token. */
export function requireCsrf(req: Request, res: Response, next: NextFunction): void {
  const session = consoleSessionOf(res);
  const body = req.body as Record<string, unknown> | undefined;
  const sent = req.get(CSRF_HEADER) ?? (typeof body?.['csrf'] === 'string' ? body['csrf'] : '');
  if (!isSameOrigin(req) || !sameToken(sent, session.csrfToken)) {
    next(
      new ForbiddenError('The console request failed its CSRF check; reload the page.', {
        code: 'csrf_failed',
      }),
    );
    return;
  }
  next();
}
