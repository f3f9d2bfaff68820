/**
 * @module errors
 * The one error model. Every failure the API reports is an AppError, rendered as OpenAI's
 * `{"error":{"message","type","param","code"}}`. Status codes are chosen knowing how the
 * official SDKs retry: they retry 408/409/429/5xx and honour Retry-After.
 */

export interface AppErrorOptions {
  readonly code?: string | null;
  readonly param?: string | null;
  /** Seconds, sent as Retry-After (429 and 503). */
  readonly retryAfterS?: number;
  readonly cause?: unknown;
}

/** The OpenAI error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Base of every error the service reports on purpose. */
export class AppError extends Error {
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;

  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.retryAfterS = options.retryAfterS;
  }

  toJSON(): OpenAIErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

export class InvalidRequestError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 400, 'invalid_request_error', options);
  }
}

export class AuthenticationError extends AppError {
  constructor(message = 'Invalid or missing API key.', options: AppErrorOptions = {}) {
    super(message, 401, 'authentication_error', { code: 'invalid_api_key', ...options });
  }
}

/** A valid key without the right: a user key on an admin route. */
export class ForbiddenError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 403, 'permission_error', { code: 'forbidden', ...options });
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 404, 'invalid_request_error', { code: 'not_found', ...options });
  }
}

export class ModelNotFoundError extends AppError {
  constructor(model: string) {
    super(`The model '${model}' does not exist.`, 404, 'invalid_request_error', {
      code: 'model_not_found',
      param: 'model',
    });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 413, 'invalid_request_error', { code: 'payload_too_large', ...options });
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 415, 'invalid_request_error', { code: 'unsupported_media_type', ...options });
  }
}

export class RateLimitError extends AppError {
  constructor(message: string, retryAfterS: number, options: AppErrorOptions = {}) {
    super(message, 429, 'rate_limit_error', { code: 'rate_limited', ...options, retryAfterS });
  }
}

/** Gemini answered with something we could not use. */
export class UpstreamError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 502, 'upstream_error', { code: 'upstream_error', ...options });
  }
}

/** The service cannot serve now but will later (login required, browser away, no node). */
export class ServiceUnavailableError extends AppError {
  constructor(message: string, retryAfterS: number, options: AppErrorOptions = {}) {
    super(message, 503, 'service_unavailable', { code: 'unavailable', ...options, retryAfterS });
  }
}

export class TimeoutError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, 504, 'timeout', { code: 'timeout', ...options });
  }
}

/** Fields that cross a process boundary (BullMQ job failure, gateway hop). */
export interface SerializedError {
  name: string;
  message: string;
  status: number;
  type: string;
  code: string | null;
  param: string | null;
  retryAfterS?: number;
}

/** Wraps anything thrown into an AppError; unknown errors become a generic 500 that hides internals. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) {
    return err;
  }
  return new AppError(
    'The server had an error while processing your request.',
    500,
    'server_error',
    {
      code: 'internal_error',
      cause: err,
    },
  );
}

export function serializeError(err: unknown): SerializedError {
  const e = toAppError(err);
  return {
    name: e.name,
    message: e.message,
    status: e.status,
    type: e.type,
    code: e.code,
    param: e.param,
    ...(e.retryAfterS === undefined ? {} : { retryAfterS: e.retryAfterS }),
  };
}

/** Rebuilds an error serialized by serializeError (e.g. across the queue). */
export function parseError(s: SerializedError): AppError {
  const err = new AppError(s.message, s.status, s.type, {
    code: s.code,
    param: s.param,
    ...(s.retryAfterS === undefined ? {} : { retryAfterS: s.retryAfterS }),
  });
  err.name = s.name;
  return err;
}

/** Status, headers and body for an HTTP response carrying this error. */
export function toOpenAIError(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: OpenAIErrorBody;
} {
  const e = toAppError(err);
  const headers: Record<string, string> = {};
  if (e.retryAfterS !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(e.retryAfterS)));
  }
  return { status: e.status, headers, body: e.toJSON() };
}
