/**
 * @module gateway/auth
 * `API_KEYS` Bearer authentication for /v1/*. An empty list leaves the API open (main warns).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AuthenticationError } from '../errors.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Middleware that accepts `Authorization: Bearer <key>` for one of `apiKeys`. */
export function requireApiKey(apiKeys: readonly string[]): RequestHandler {
  // Comparing fixed-length digests in constant time leaks neither a key nor its length.
  const allowed = apiKeys.map(digest);
  return function apiKeyAuth(req, _res, next) {
    if (allowed.length === 0) {
      next();
      return;
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = digest(match?.[1]?.trim() ?? '');
    let ok = false;
    for (const key of allowed) {
      ok = timingSafeEqual(key, given) || ok;
    }
    next(ok ? undefined : new AuthenticationError());
  };
}
