/**
 * @module gateway/error-handler
 * The one terminal error middleware: every failure leaves as OpenAI's error JSON.
 */
import type { ErrorRequestHandler } from 'express';
import {
  AppError,
  InvalidRequestError,
  PayloadTooLargeError,
  toAppError,
  toOpenAIError,
} from '../errors.ts';
import type { Logger } from '../logging.ts';

/** Maps body-parser's errors (they carry `type` and `status`) to ours. */
function fromBodyParser(err: unknown): AppError | null {
  if (typeof err !== 'object' || err === null || !('type' in err)) {
    return null;
  }
  switch (err.type) {
    case 'entity.too.large':
      return new PayloadTooLargeError('The request body is too large.');
    case 'entity.parse.failed':
      return new InvalidRequestError('The request body is not valid JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
    case 'request.aborted':
    case 'request.size.invalid':
      return new InvalidRequestError('The request body could not be read.');
    default:
      return null;
  }
}

/** Renders any error as OpenAI JSON; unknown errors are logged and answered as a generic 500. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return function gatewayErrorHandler(err, req, res, next) {
    const appError = fromBodyParser(err) ?? toAppError(err);
    if (!(err instanceof AppError) && appError.status >= 500) {
      logger.error('unhandled error', { error: err as unknown, path: req.path });
    }
    if (res.headersSent) {
      // Too late for a status: let express cut the connection.
      next(err);
      return;
    }
    const { status, headers, body } = toOpenAIError(appError);
    res.status(status).set(headers).json(body);
  };
}
