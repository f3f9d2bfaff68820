import { AppError } from '../errors.ts';
import type { FailureKind, SendStage } from './types.ts';

const STATUS: Record<FailureKind, { status: number; type: string; code: string }> = {
  quota: { status: 429, type: 'rate_limit_error', code: 'usage_limit' },
  ip_blocked: { status: 429, type: 'rate_limit_error', code: 'ip_blocked' },
  auth: { status: 503, type: 'service_unavailable', code: 'login_required' },
  transient: { status: 502, type: 'upstream_error', code: 'upstream_unavailable' },
  model: { status: 400, type: 'invalid_request_error', code: 'model_not_supported' },
  followup_rejected: { status: 502, type: 'upstream_error', code: 'followup_rejected' },
  bad_request: { status: 502, type: 'upstream_error', code: 'upstream_rejected' },
};

/** Details a GeminiError carries besides its class. */
export interface GeminiErrorOptions {
  /** The in-band BardErrorInfo code (1037, 1060…), if any. */
  readonly upstreamCode?: number | null;
  /** The upstream HTTP status, if it was not 200. */
  readonly httpStatus?: number | null;
  /** How far the StreamGenerate send got; absent when the failure was not a send. */
  readonly stage?: SendStage | null;
  readonly retryAfterS?: number;
  readonly param?: string;
  readonly cause?: unknown;
}

/** A classified upstream failure. Its status is what the client gets if nobody handles it. */
export class GeminiError extends AppError {
  readonly upstreamCode: number | null;
  readonly httpStatus: number | null;
  readonly stage: SendStage | null;

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
    this.stage = options.stage ?? null;
  }

  /** A copy that says how far the send got. */
  atStage(stage: SendStage): GeminiError {
    const retry = this.retryAfterS === undefined ? {} : { retryAfterS: this.retryAfterS };
    return new GeminiError(this.kind, this.message, { ...this.copyOptions(), ...retry, stage });
  }

  /** A copy with another message, keeping the class and codes. */
  withMessage(message: string): GeminiError {
    const retry = this.retryAfterS === undefined ? {} : { retryAfterS: this.retryAfterS };
    return new GeminiError(this.kind, message, { ...this.copyOptions(), ...retry });
  }

  /** A copy with Retry-After set, e.g. once the account layer knows the cooldown's end. */
  withRetryAfter(retryAfterS: number, message = this.message): GeminiError {
    return new GeminiError(this.kind, message, { ...this.copyOptions(), retryAfterS });
  }

  private copyOptions(): GeminiErrorOptions {
    return {
      upstreamCode: this.upstreamCode,
      httpStatus: this.httpStatus,
      stage: this.stage,
      cause: this.cause,
      ...(this.param === null ? {} : { param: this.param }),
    };
  }
}

/** Narrows to GeminiError. */
export function isGeminiError(err: unknown): err is GeminiError {
  return err instanceof GeminiError;
}

/** A 400/405 from StreamGenerate: usually a stale `at` token, healed by loading the page again. */
export function isStaleTokenError(err: GeminiError): boolean {
  return err.kind === 'bad_request' && (err.httpStatus === 400 || err.httpStatus === 405);
}

/** Whether a send that failed at `stage` proves that Google did not take the prompt. */
export function provenNotTaken(stage: SendStage | null): boolean {
  return (
    stage === 'before_response' || stage === 'http_status' || stage === 'rejected_before_generation'
  );
}

/**
 * In-band codes that reject a request before generation when no candidate came first. 1096 and
 * unknown codes are not among them: the turn may have been taken.
 */
export const REJECTING_CODES: ReadonlySet<number> = new Set([1013, 1037, 1050, 1052, 1060, 1097]);

/** In-band BardErrorInfo codes and the failure class each one means (protocol doc §5). */
export const ERROR_CODES: Readonly<Record<number, { kind: FailureKind; message: string }>> = {
  1013: { kind: 'transient', message: 'Gemini had a temporary model error' },
  1037: { kind: 'quota', message: 'Gemini usage limit reached for this model' },
  1050: { kind: 'model', message: 'The model is inconsistent with this chat history' },
  1052: { kind: 'model', message: 'The model selector is invalid or outdated' },
  1060: { kind: 'ip_blocked', message: "Gemini temporarily blocked this worker's IP address" },
  1096: { kind: 'transient', message: 'Gemini ended the turn without an answer' },
  1097: { kind: 'followup_rejected', message: 'Gemini rejected the follow-up turn' },
};

/** The error an in-band code stands for; unknown codes are transient. */
export function errorForCode(code: number, rpcCode: number | null = null): GeminiError {
  const known = ERROR_CODES[code];
  const rpc = rpcCode === null ? '' : `, rpc status ${rpcCode}`;
  return new GeminiError(
    known?.kind ?? 'transient',
    `${known?.message ?? 'Gemini returned an unknown error'} (code ${code}${rpc}).`,
    { upstreamCode: code },
  );
}

/**
 * The error an upstream HTTP status stands for. `sorry` says the reply was (or pointed to) the
 * /sorry page, which means a blocked IP.
 */
export function errorForStatus(status: number, what: string, sorry = false): GeminiError {
  const options = { httpStatus: status };
  if (sorry) {
    return new GeminiError('ip_blocked', `${what}: Google's /sorry page (IP blocked).`, options);
  }
  if (status === 401 || status === 403) {
    return new GeminiError(
      'auth',
      `${what}: HTTP ${status}, the Google session is not accepted.`,
      options,
    );
  }
  if (status === 429) {
    return new GeminiError('quota', `${what}: HTTP 429, too many requests.`, options);
  }
  if (status >= 400 && status < 500) {
    return new GeminiError('bad_request', `${what}: HTTP ${status}, request rejected.`, options);
  }
  return new GeminiError('transient', `${what}: HTTP ${status}.`, options);
}
