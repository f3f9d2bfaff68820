/**
 * @module gateway/failed-attempt
 * What a failed attempt leaves behind for the client, should no later attempt do better: an
 * upstream error response kept whole (status, Retry-After, OpenAI body, x-upstream-sent, as the
 * worker sent them), or our own error for a node that failed before answering. Ours say whether
 * the prompt may have gone upstream: only a connection never made proves it did not, and every
 * other failure carries `x-should-retry: false`, so an SDK does not send the prompt again.
 */
import type { ServerResponse } from 'node:http';
import {
  ServiceUnavailableError,
  TimeoutError,
  UpstreamError,
  toOpenAIError,
  type AppError,
} from '../errors.ts';
import type { ErrorShaper } from '../http/index.ts';
import type { Logger } from '../logging.ts';
import {
  SHOULD_RETRY_HEADER,
  UPSTREAM_SENT_HEADER,
  classifyNetworkError,
  parseUpstreamSent,
  type NetworkClass,
} from './failover.ts';
import { forwardableHeaders, type AttemptResult, type UpstreamHeaders } from './upstream.ts';

/** A failed attempt, ready to be answered. */
export type FailedAttempt =
  | {
      readonly kind: 'saved';
      readonly status: number;
      readonly headers: UpstreamHeaders;
      /** null when the body was unreadable or over the bound. */
      readonly body: Buffer | null;
    }
  | {
      readonly kind: 'error';
      readonly error: AppError;
      /** False only when the node never got the request. */
      readonly upstreamSent: boolean;
    };

const ERROR_BODY_MAX_BYTES = 64 * 1024;

/** Drains a failed attempt (reading an error body whole) into what the client would get. */
export async function settleFailedAttempt(
  result: AttemptResult,
  nodeUrl: string,
  logger: Logger,
): Promise<FailedAttempt> {
  if (result.kind === 'response') {
    const body = await result.body.readCapped(ERROR_BODY_MAX_BYTES);
    return { kind: 'saved', status: result.status, headers: result.headers, body };
  }
  const cls = classifyNetworkError(result.code);
  if (cls !== 'aborted') {
    logger.warn('worker node attempt failed', {
      node: nodeUrl,
      code: result.code,
      error: result.error instanceof Error ? result.error.message : String(result.error),
    });
  }
  return { kind: 'error', error: networkError(cls), upstreamSent: cls !== 'unreachable' };
}

/** The error code of a failure after which the prompt may have reached Gemini. */
export const OUTCOME_UNKNOWN_CODE = 'upstream_outcome_unknown';

const MAY_HAVE_REACHED =
  'The prompt may have reached Gemini; sending it again could answer it twice.';

/** Our error for a failure before any response. */
export function networkError(cls: NetworkClass): AppError {
  switch (cls) {
    case 'unreachable':
      return new ServiceUnavailableError('No worker node could answer the request.', 5, {
        code: 'upstream_unavailable',
      });
    case 'timeout':
      return new TimeoutError(`The worker node did not answer in time. ${MAY_HAVE_REACHED}`, {
        code: OUTCOME_UNKNOWN_CODE,
      });
    default:
      return new UpstreamError(`The worker node failed before answering. ${MAY_HAVE_REACHED}`, {
        code: OUTCOME_UNKNOWN_CODE,
      });
  }
}

/** Sets x-upstream-sent (and x-should-retry: false when the prompt may have gone upstream). */
export function markUpstreamSent(res: ServerResponse, sent: boolean): void {
  res.setHeader(UPSTREAM_SENT_HEADER, String(sent));
  if (sent) {
    res.setHeader(SHOULD_RETRY_HEADER, 'false');
  }
}

/**
 * Answers a saved upstream error as the worker sent it (already in the client's dialect); throws
 * our own error otherwise (the error handler shapes it). `shape` renders the client's dialect.
 */
export function answerFailedAttempt(
  res: ServerResponse,
  failed: FailedAttempt,
  shape: ErrorShaper = toOpenAIError,
): void {
  if (failed.kind === 'error') {
    markUpstreamSent(res, failed.upstreamSent);
    throw failed.error;
  }
  if (failed.body === null) {
    markUpstreamSent(res, parseUpstreamSent(failed.headers[UPSTREAM_SENT_HEADER]) !== false);
    const fallback = shape(new UpstreamError('The worker node sent an unreadable error.'));
    // The worker's status stands: it tells the SDK what happened (a 429 stays a 429).
    sendJson(res, failed.status, fallback.headers, fallback.body);
    return;
  }
  const headers = forwardableHeaders(failed.headers);
  // The body is whole in memory; node sets the length itself.
  delete headers['content-length'];
  res.writeHead(failed.status, headers).end(failed.body);
}

/** Answers `body` as JSON with `status` and `headers` (beside any already set). */
export function sendJson(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): void {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': json.length,
  });
  res.end(json);
}
