/**
 * @module gateway/failover
 * Whether a failed attempt may go to another node. Pure. The rule that matters: a request moves
 * only while nothing has reached the client, and only on a signal that says the node did not
 * answer it (no connection, or a 429/502/503 status, which a worker sends before any body byte).
 */

/** What one attempt against a node produced. */
export type AttemptOutcome =
  /** Response headers arrived. */
  | { readonly kind: 'response'; readonly status: number }
  /** The attempt failed before any response header; `code` is the socket or undici error code. */
  | { readonly kind: 'network'; readonly code: string | null };

/** The request's state when the outcome arrived. */
export interface FailoverContext {
  /** 1-based number of the attempt that produced the outcome. */
  readonly attempt: number;
  /** config.gateway.maxAttempts. */
  readonly maxAttempts: number;
  /** True once any byte (status line included) went to the client. */
  readonly clientCommitted: boolean;
  /** True when the client went away. */
  readonly clientAborted: boolean;
  /**
   * Retry a connection reset before the response (default false: the worker may already have sent
   * the prompt upstream, and a retry could have it answered twice).
   */
  readonly retryOnReset?: boolean;
}

/** Why a request moved to another node (a metrics label). */
export type FailoverReason = 'status_429' | 'status_502' | 'status_503' | 'unreachable' | 'reset';

/** forward: hand this response to the client. retry: try another node. fail: answer an error. */
export type FailoverDecision =
  | { readonly action: 'forward' }
  | { readonly action: 'retry'; readonly reason: FailoverReason }
  | {
      readonly action: 'fail';
      readonly reason: 'client_aborted' | 'committed' | 'exhausted' | 'not_retryable';
    };

/** How a network failure before the response is read. */
export type NetworkClass = 'unreachable' | 'reset' | 'timeout' | 'aborted' | 'other';

const RETRY_STATUSES = new Set([429, 502, 503]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const ABORTED = new Set(['UND_ERR_ABORTED', 'ABORT_ERR']);

/**
 * unreachable: no connection was made, the node never saw the request. reset: the connection
 * dropped before any response; the node may have received the request. timeout: the node took
 * the request and did not answer in time, so it may still be answering it.
 */
export function classifyNetworkError(code: string | null): NetworkClass {
  if (code === null) {
    return 'other';
  }
  if (UNREACHABLE.has(code)) {
    return 'unreachable';
  }
  if (RESET.has(code)) {
    return 'reset';
  }
  if (TIMEOUT.has(code)) {
    return 'timeout';
  }
  return ABORTED.has(code) ? 'aborted' : 'other';
}

/** Decides what to do with one attempt's outcome. */
export function decideFailover(outcome: AttemptOutcome, ctx: FailoverContext): FailoverDecision {
  if (ctx.clientAborted) {
    return { action: 'fail', reason: 'client_aborted' };
  }
  const reason = retryReason(outcome, ctx.retryOnReset ?? false);
  if (reason === null) {
    return outcome.kind === 'response'
      ? { action: 'forward' }
      : { action: 'fail', reason: 'not_retryable' };
  }
  if (ctx.clientCommitted) {
    // Unreachable in practice (nothing is written before the outcome), but the rule is absolute.
    return { action: 'fail', reason: 'committed' };
  }
  if (ctx.attempt >= ctx.maxAttempts) {
    // Out of attempts: the last upstream error goes to the client as it is.
    return outcome.kind === 'response'
      ? { action: 'forward' }
      : { action: 'fail', reason: 'exhausted' };
  }
  return { action: 'retry', reason };
}

function retryReason(outcome: AttemptOutcome, retryOnReset: boolean): FailoverReason | null {
  if (outcome.kind === 'response') {
    return RETRY_STATUSES.has(outcome.status)
      ? (`status_${outcome.status}` as FailoverReason)
      : null;
  }
  const cls = classifyNetworkError(outcome.code);
  if (cls === 'unreachable') {
    return 'unreachable';
  }
  return cls === 'reset' && retryOnReset ? 'reset' : null;
}
