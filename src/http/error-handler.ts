/**
 * The one terminal error middleware. An AppError becomes the client dialect's error JSON (OpenAI's
 * unless the app says otherwise for the path) with its status and Retry-After; body-parser and
 * multer failures become the 4xx they are; anything else is logged with its stack and answered
 * with a generic 500 that hides internals.
 */
import type { NextFunction, Request, Response } from 'express';
import {
  AppError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  toOpenAIError,
} from '../errors.ts';
import type { Logger } from '../logging.ts';
import { requestIdOf } from './request-id.ts';

interface HttpishError {
  type?: string;
  status?: number;
  code?: string;
}

/** Maps errors thrown by express's parsers and multer to our model. */
export function normalizeError(err: unknown): unknown {
  if (err instanceof AppError) {
    return err;
  }
  const e = (err ?? {}) as HttpishError;
  if (e.type === 'entity.parse.failed') {
    return new InvalidRequestError('The request body is not valid JSON.', { code: 'invalid_json' });
  }
  if (
    e.type === 'entity.too.large' ||
    e.code === 'LIMIT_FILE_SIZE' ||
    e.code === 'LIMIT_FIELD_VALUE'
  ) {
    return new PayloadTooLargeError('The request is larger than this server accepts.');
  }
  if (typeof e.code === 'string' && e.code.startsWith('LIMIT_')) {
    return new InvalidRequestError(`Invalid upload (${e.code.toLowerCase()}).`, { param: 'files' });
  }
  if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
    return new InvalidRequestError('Unsupported request encoding.');
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new InvalidRequestError('Invalid request.');
  }
  return err;
}

/** Renders an error as one dialect's HTTP response. */
export type ErrorShaper = (err: unknown) => {
  status: number;
  headers: Record<string, string>;
  body: unknown;
};

/**
 * An error in the shape `shape` renders: ours as they are, parsers' as the 4xx they mean; what is
 * neither is logged with its stack and rendered as a generic 500.
 */
export function renderError(
  err: unknown,
  shape: ErrorShaper,
  logger: Logger,
  requestId: string,
): ReturnType<ErrorShaper> {
  const normalized = normalizeError(err);
  const rendered = shape(normalized);
  if (rendered.status >= 500 && !(normalized instanceof AppError)) {
    logger.error('unhandled error', { err, requestId });
  }
  return rendered;
}

/** The terminal error middleware; `shapeFor` picks the error JSON by request (OpenAI's by default). */
export function errorHandler(
  logger: Logger,
  shapeFor: (req: Request) => ErrorShaper = () => toOpenAIError,
) {
  // express recognises an error handler by its four parameters.
  return function handleError(
    err: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    if (res.destroyed && isAbort(err)) {
      // The client closed its connection, and its request was stopped for that: no one to answer.
      logger.debug('the client left before its answer', { requestId: requestIdOf(res) });
      return;
    }
    const { status, headers, body } = renderError(err, shapeFor(req), logger, requestIdOf(res));
    if (res.headersSent) {
      // A response already under way cannot change its status; end it.
      res.destroy();
      return;
    }
    res.status(status).set(headers).json(body);
  };
}

/** An AbortController's own reason: what a request stopped because its client left throws. */
function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new NotFoundError(`Unknown path: ${req.method} ${req.path}`));
}
