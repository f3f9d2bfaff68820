/**
 * Authentication and roles for the worker and the gateway. authenticate() runs before any body
 * is read; requireAdmin() answers a user key with 403. Keys arrive as `Authorization: Bearer`,
 * `x-api-key` (Anthropic's SDK), `x-goog-api-key` or `?key=` on /v1beta (Google's SDKs and
 * gemini-cli), or HTTP Basic (the password; lets a browser open the dashboard).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { AuthenticationError, ForbiddenError } from '../errors.ts';
import type { Caller, KeyRing } from './key-ring.ts';

/** The key a request presents, or null. */
export function presentedKey(req: Request): string | null {
  const inHeaders = headerKey(req.headers);
  if (inHeaders !== null) {
    return inHeaders;
  }
  // Only Google's dialect puts the key in the URL; elsewhere a URL key is not accepted, so it
  // never becomes a habit that leaks keys into proxies' access logs.
  const onGooglePath = `${req.baseUrl}${req.path}`.toLowerCase().startsWith('/v1beta/');
  const query = onGooglePath ? req.query['key'] : undefined;
  return typeof query === 'string' && query.trim() !== '' ? query.trim() : null;
}

/** The key request headers present (Bearer, the Basic password, x-api-key, x-goog-api-key), or null. */
export function headerKey(headers: IncomingHttpHeaders): string | null {
  const header = (headers.authorization ?? '').trim();
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer?.[1]) {
    return bearer[1].trim();
  }
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : decoded;
  }
  const keyHeader = headerText(headers['x-api-key']) || headerText(headers['x-goog-api-key']);
  return keyHeader || null;
}

const headerText = (value: string | string[] | undefined): string =>
  (Array.isArray(value) ? value.join(', ') : (value ?? '')).trim();

export interface AuthenticateOptions {
  /** Sends `WWW-Authenticate: Basic` with a 401, so a browser asks for the key. */
  readonly basicRealm?: string;
}

/** 401 unless the request carries an accepted key; the caller goes to res.locals. */
export function authenticate(ring: KeyRing, { basicRealm }: AuthenticateOptions = {}) {
  return function requireKey(req: Request, res: Response, next: NextFunction): void {
    const key = presentedKey(req);
    const caller = ring.identify(key);
    if (caller) {
      res.locals['caller'] = caller;
      next();
      return;
    }
    if (basicRealm) {
      res.setHeader('www-authenticate', `Basic realm="${basicRealm}", charset="UTF-8"`);
    }
    // The body is never read: close the connection rather than drain a large upload.
    res.setHeader('connection', 'close');
    next(
      new AuthenticationError(
        key
          ? 'Incorrect API key provided.'
          : 'Missing API key: send Authorization: Bearer <key> (or x-api-key).',
      ),
    );
  };
}

/** The caller authenticate() found, or null on an open route. */
export function callerOf(res: Response): Caller | null {
  const caller = res.locals['caller'] as Caller | undefined;
  return caller ?? null;
}

/** The caller a request would be, without refusing it (for routes open to all, like /health). */
export function peekCaller(ring: KeyRing, req: Request): Caller | null {
  return ring.identify(presentedKey(req));
}

/** True when the caller may see or touch something owned by `owner`. */
export function mayAccess(caller: Caller | null, owner: string | null | undefined): boolean {
  if (!caller) {
    return false;
  }
  return caller.role === 'admin' || caller.keyId === (owner ?? 'anonymous');
}

/** After authenticate(): 403 in OpenAI's shape unless the key is an admin key. */
export function requireAdmin(_req: Request, res: Response, next: NextFunction): void {
  if (callerOf(res)?.role === 'admin') {
    next();
    return;
  }
  next(new ForbiddenError('This route needs an admin key (ADMIN_API_KEYS).'));
}
