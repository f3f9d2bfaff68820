/**
 * Bearer API keys. With API_KEYS empty the API is open (main.ts warns at start); otherwise every
 * guarded route needs `Authorization: Bearer <key>`. Keys are compared in constant time.
 */
import type { NextFunction, Request, Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../../errors.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function apiKeyAuth(keys: readonly string[]) {
  const digests = keys.map(digest);
  return function requireApiKey(req: Request, _res: Response, next: NextFunction): void {
    if (digests.length === 0) {
      next();
      return;
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    const given = match?.[1] ? digest(match[1].trim()) : null;
    if (given && digests.some((d) => timingSafeEqual(d, given))) {
      next();
      return;
    }
    next(
      new AuthenticationError(
        given
          ? 'Incorrect API key provided.'
          : 'Missing API key: send Authorization: Bearer <key>.',
      ),
    );
  };
}
