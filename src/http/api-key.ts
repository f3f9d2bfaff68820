/**
 * `API_KEYS` Bearer authentication, for the worker and the gateway alike. An empty list leaves
 * the API open (both roles warn at start).
 */
import type { NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../errors.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Middleware that accepts `Authorization: Bearer <key>` for one of `apiKeys`. */
export function requireApiKey(apiKeys: readonly string[]) {
  // Fixed-length digests compared in constant time, against every key: leaks neither a key,
  // its length, nor which one matched.
  const allowed = apiKeys.map(digest);
  return function apiKeyAuth(req: Request, _res: Response, next: NextFunction): void {
    if (allowed.length === 0) {
      next();
      return;
    }
    const match = /^Bearer\s+(.+)$/i.exec((req.get('authorization') ?? '').trim());
    const key = match?.[1]?.trim();
    const given = digest(key ?? '');
    let ok = false;
    for (const candidate of allowed) {
      ok = timingSafeEqual(candidate, given) || ok;
    }
    if (ok) {
      next();
      return;
    }
    next(
      new AuthenticationError(
        key ? 'Incorrect API key provided.' : 'Missing API key: send Authorization: Bearer <key>.',
      ),
    );
  };
}
