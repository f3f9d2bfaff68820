/**
 * Request IDs by hono's rules: a caller's X-Request-Id is kept when it is short and printable,
 * otherwise one is generated. It goes back in the response and into every log line of the request.
 */
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

export function requestId({ headerName = 'x-request-id', limitLength = 255 } = {}) {
  return function assignRequestId(req: Request, res: Response, next: NextFunction): void {
    const given = req.get(headerName);
    const id =
      given && given.length <= limitLength && /^[\w\-=.:]+$/.test(given) ? given : randomUUID();
    res.locals['requestId'] = id;
    res.setHeader(headerName, id);
    next();
  };
}

/** The request's id, as assigned by requestId(). */
export function requestIdOf(res: Response): string {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : '';
}
