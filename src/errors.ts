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
  /**
   * Whether the prompt may have reached Gemini before this failure (true), or Google provably did
   * not take it (false). Unset for errors that have nothing to do with an upstream send.
   */
  readonly upstreamSent?: boolean;
}

/**
 * Response header of the worker's chat route: `true` when the prompt may have reached Gemini,
 * `false` when Google did not take it (never sent, or every send was a proven rejection). The
 * gateway fails over only on `false`.
 */
export const UPSTREAM_SENT_HEADER = 'x-upstream-sent';

/** Honoured by the openai and anthropic SDKs: `false` stops their automatic retries. */
export const SHOULD_RETRY_HEADER = 'x-should-retry';

/** The OpenAI error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Base of every error the service reports on purpose. */
export class AppError extends Error {
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterS: number | undefined;
  readonly upstreamSent: boolean | undefined;

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
    this.upstreamSent = options.upstreamSent;
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

/**
 * Google may have taken the prompt, but the answer was cut, stalled or failed: it is never sent
 * again (DESIGN.md, at most once upstream), and the client is told not to retry by itself.
 */
export class UpstreamOutcomeUnknownError extends AppError {
  constructor(reason: string, options: AppErrorOptions = {}) {
    super(
      `The answer was cut off (${reason}). The prompt may have reached Gemini, so it was not ` +
        'sent again; sending it once more could answer it twice.',
      502,
      'upstream_error',
      { code: 'upstream_outcome_unknown', ...options, upstreamSent: true },
    );
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
  upstreamSent?: boolean;
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

/**
 * The fields of `err` that cross a process boundary. `upstreamSent`, when given, overrides the
 * error's own flag (the process that ran the job knows best what went upstream).
 */
export function serializeError(
  err: unknown,
  over: { readonly upstreamSent?: boolean } = {},
): SerializedError {
  const e = toAppError(err);
  const upstreamSent = over.upstreamSent ?? e.upstreamSent;
  return {
    name: e.name,
    message: e.message,
    status: e.status,
    type: e.type,
    code: e.code,
    param: e.param,
    ...(e.retryAfterS === undefined ? {} : { retryAfterS: e.retryAfterS }),
    ...(upstreamSent === undefined ? {} : { upstreamSent }),
  };
}

/** Rebuilds an error serialized by serializeError (e.g. across the queue). */
export function parseError(s: SerializedError): AppError {
  const err = new AppError(s.message, s.status, s.type, {
    code: s.code,
    param: s.param,
    ...(s.retryAfterS === undefined ? {} : { retryAfterS: s.retryAfterS }),
    ...(typeof s.upstreamSent === 'boolean' ? { upstreamSent: s.upstreamSent } : {}),
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
  if (e.upstreamSent !== undefined) {
    headers[UPSTREAM_SENT_HEADER] = String(e.upstreamSent);
  }
  if (e.upstreamSent === true) {
    // An SDK's own retry would be a second send of a prompt Gemini may already have.
    headers[SHOULD_RETRY_HEADER] = 'false';
  }
  return { status: e.status, headers, body: e.toJSON() };
}
