/**
 * A body limit that refuses a declared oversize body at once. express's parsers answer 413 only
 * after draining the whole body; a Content-Length over the limit is refused before a byte is
 * read, and the connection is closed instead of drained.
 */
import type { NextFunction, Request, Response } from 'express';
import { PayloadTooLargeError } from '../errors.ts';

/** Middleware: 413 (and Connection: close) when Content-Length exceeds `limitBytes`. */
export function refuseDeclaredOversize(limitBytes: number) {
  return function declaredLength(req: Request, res: Response, next: NextFunction): void {
    const declared = Number(req.get('content-length') ?? 0);
    if (Number.isFinite(declared) && declared > limitBytes) {
      res.setHeader('connection', 'close');
      next(
        new PayloadTooLargeError(
          `The request body is larger than this server accepts (${limitBytes} bytes).`,
        ),
      );
      return;
    }
    next();
  };
}
