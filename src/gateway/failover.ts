/**
 * @module gateway/failover
 * Whether a failed attempt may go to another node. Pure. The rule that matters: a prompt reaches
 * Google at most once, so a request moves only while nothing has reached the client and only when
 * the node proved it did not send the prompt upstream: it said `x-upstream-sent: false` on an error
 * status, or the connection was never made. A missing header counts as "maybe sent" (no move),
 * except on 429, which a worker answers only before any upstream send (its queue or account is
 * cooling); workers from before the header existed send 429 without it.
 */

// One definition of the headers for the worker and the gateway: the contract between them.
export { SHOULD_RETRY_HEADER, UPSTREAM_SENT_HEADER } from '../errors.ts';

/** What the worker said about the upstream send: true, false, or null when it did not say. */
export type UpstreamSent = boolean | null;

/** What one attempt against a node produced. */
export type AttemptOutcome =
  /** Response headers arrived. */
  | { readonly kind: 'response'; readonly status: number; readonly upstreamSent?: UpstreamSent }
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
}

/** Why a request moved to another node (a metrics label). */
export type FailoverReason =
  'status_429' | 'status_500' | 'status_502' | 'status_503' | 'status_504' | 'unreachable';

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

/** Error statuses another node may answer better, once the worker said it sent nothing. */
const MOVABLE_STATUSES = new Set([429, 500, 502, 503, 504]);
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

/** Reads `x-upstream-sent`: 'true' / 'false' (any case, trimmed), anything else null. */
export function parseUpstreamSent(value: string | string[] | undefined): UpstreamSent {
  const text = (Array.isArray(value) ? value[0] : value)?.trim().toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : null;
}

/**
 * unreachable: no connection was made, the node never saw the request. reset: the connection
 * dropped before any response; the node may have sent the prompt upstream. timeout: the node took
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
  const reason = retryReason(outcome);
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

function retryReason(outcome: AttemptOutcome): FailoverReason | null {
  if (outcome.kind === 'network') {
    return classifyNetworkError(outcome.code) === 'unreachable' ? 'unreachable' : null;
  }
  if (!MOVABLE_STATUSES.has(outcome.status)) {
    return null;
  }
  const sent = outcome.upstreamSent ?? null;
  const notSent = sent === false || (sent === null && outcome.status === 429);
  return notSent ? (`status_${outcome.status}` as FailoverReason) : null;
}
