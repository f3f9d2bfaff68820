import { AppError } from '../errors.ts';
import type { FailureKind } from './types.ts';

const STATUS: Record<FailureKind, { status: number; type: string; code: string }> = {
  quota: { status: 429, type: 'rate_limit_error', code: 'usage_limit' },
  ip_blocked: { status: 429, type: 'rate_limit_error', code: 'ip_blocked' },
  auth: { status: 503, type: 'service_unavailable', code: 'login_required' },
  transient: { status: 502, type: 'upstream_error', code: 'upstream_unavailable' },
  model: { status: 400, type: 'invalid_request_error', code: 'model_not_supported' },
  followup_rejected: { status: 502, type: 'upstream_error', code: 'followup_rejected' },
  bad_request: { status: 502, type: 'upstream_error', code: 'upstream_rejected' },
};

export interface GeminiErrorOptions {
  /** The in-band BardErrorInfo code (1037, 1060…), if any. */
  readonly upstreamCode?: number | null;
  /** The upstream HTTP status, if it was not 200. */
  readonly httpStatus?: number | null;
  readonly retryAfterS?: number;
  readonly param?: string;
  readonly cause?: unknown;
}

/** A classified upstream failure. Its status is what the client gets if nobody handles it. */
export class GeminiError extends AppError {
  readonly upstreamCode: number | null;
  readonly httpStatus: number | null;

  constructor(
    readonly kind: FailureKind,
    message: string,
    options: GeminiErrorOptions = {},
  ) {
    const s = STATUS[kind];
    super(message, s.status, s.type, {
      code: s.code,
      param: options.param ?? (kind === 'model' ? 'model' : null),
      ...(options.retryAfterS === undefined ? {} : { retryAfterS: options.retryAfterS }),
      cause: options.cause,
    });
    this.upstreamCode = options.upstreamCode ?? null;
    this.httpStatus = options.httpStatus ?? null;
  }

  /** A copy with Retry-After set, e.g. once the account layer knows the cooldown's end. */
  withRetryAfter(retryAfterS: number, message = this.message): GeminiError {
    return new GeminiError(this.kind, message, {
      upstreamCode: this.upstreamCode,
      httpStatus: this.httpStatus,
      retryAfterS,
      cause: this.cause,
      ...(this.param === null ? {} : { param: this.param }),
    });
  }
}

export function isGeminiError(err: unknown): err is GeminiError {
  return err instanceof GeminiError;
}
