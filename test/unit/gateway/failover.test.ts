import { describe, expect, it } from 'vitest';
import {
  classifyNetworkError,
  decideFailover,
  parseUpstreamSent,
  UPSTREAM_SENT_HEADER,
  type FailoverContext,
} from '../../../src/gateway/index.ts';

const ctx = (o: Partial<FailoverContext> = {}): FailoverContext => ({
  attempt: 1,
  maxAttempts: 3,
  clientCommitted: false,
  clientAborted: false,
  ...o,
});

describe('decideFailover', () => {
  const response = (status: number, upstreamSent: boolean | null = false) =>
    ({ kind: 'response', status, upstreamSent }) as const;

  it.each([200, 201, 400, 401, 404, 413])('forwards status %i as it is', (status) => {
    for (const sent of [true, false, null]) {
      expect(decideFailover(response(status, sent), ctx())).toEqual({ action: 'forward' });
    }
  });

  it.each([429, 500, 502, 503, 504])(
    'moves status %i to another node when the worker says it sent nothing upstream',
    (status) => {
      expect(decideFailover(response(status, false), ctx())).toEqual({
        action: 'retry',
        reason: `status_${status}`,
      });
      expect(decideFailover(response(status, false), ctx({ attempt: 2 })).action).toBe('retry');
    },
  );

  it.each([429, 500, 502, 503, 504])(
    'never moves status %i once the worker says the prompt may have gone upstream',
    (status) => {
      expect(decideFailover(response(status, true), ctx())).toEqual({ action: 'forward' });
    },
  );

  it.each([500, 502, 503, 504])(
    'counts a missing x-upstream-sent on %i as "maybe sent": no move',
    (status) => {
      expect(decideFailover(response(status, null), ctx())).toEqual({ action: 'forward' });
      expect(decideFailover({ kind: 'response', status }, ctx())).toEqual({ action: 'forward' });
    },
  );

  it('moves a 429 without the header: a worker answers 429 only before any upstream send', () => {
    expect(decideFailover(response(429, null), ctx())).toEqual({
      action: 'retry',
      reason: 'status_429',
    });
  });

  it('reads the header', () => {
    expect(parseUpstreamSent('true')).toBe(true);
    expect(parseUpstreamSent(' FALSE ')).toBe(false);
    expect(parseUpstreamSent(['false', 'true'])).toBe(false);
    expect(parseUpstreamSent(undefined)).toBeNull();
    expect(parseUpstreamSent('maybe')).toBeNull();
    expect(UPSTREAM_SENT_HEADER).toBe('x-upstream-sent');
  });

  it('forwards the last upstream error once the attempts are used up', () => {
    expect(decideFailover(response(503), ctx({ attempt: 3 }))).toEqual({
      action: 'forward',
    });
    expect(decideFailover(response(429), ctx({ maxAttempts: 1 }))).toEqual({
      action: 'forward',
    });
  });

  it.each(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENOTFOUND'])(
    'moves a request the node never received (%s)',
    (code) => {
      expect(decideFailover({ kind: 'network', code }, ctx())).toEqual({
        action: 'retry',
        reason: 'unreachable',
      });
    },
  );

  it.each(['ECONNRESET', 'UND_ERR_SOCKET'])(
    'never moves a request whose connection reset before the response (%s)',
    (code) => {
      // The worker may already have sent the prompt upstream: moving it could answer it twice.
      expect(decideFailover({ kind: 'network', code }, ctx())).toEqual({
        action: 'fail',
        reason: 'not_retryable',
      });
    },
  );

  it('never moves a request the node may still be answering (timeout) or an unknown failure', () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'EWHATEVER', null]) {
      expect(decideFailover({ kind: 'network', code }, ctx())).toEqual({
        action: 'fail',
        reason: 'not_retryable',
      });
    }
  });

  it('fails a network error once the attempts are used up', () => {
    expect(decideFailover({ kind: 'network', code: 'ECONNREFUSED' }, ctx({ attempt: 3 }))).toEqual({
      action: 'fail',
      reason: 'exhausted',
    });
  });

  it('never retries once anything went to the client', () => {
    for (const outcome of [
      { kind: 'response', status: 503, upstreamSent: false },
      { kind: 'network', code: 'ECONNREFUSED' },
    ] as const) {
      expect(decideFailover(outcome, ctx({ clientCommitted: true }))).toEqual({
        action: 'fail',
        reason: 'committed',
      });
    }
  });

  it('stops when the client went away', () => {
    expect(decideFailover(response(503), ctx({ clientAborted: true }))).toEqual({
      action: 'fail',
      reason: 'client_aborted',
    });
    expect(
      decideFailover({ kind: 'network', code: 'UND_ERR_ABORTED' }, ctx({ clientAborted: true }))
        .action,
    ).toBe('fail');
  });
});

describe('classifyNetworkError', () => {
  it('reads the codes', () => {
    expect(classifyNetworkError('ECONNREFUSED')).toBe('unreachable');
    expect(classifyNetworkError('ECONNRESET')).toBe('reset');
    expect(classifyNetworkError('UND_ERR_HEADERS_TIMEOUT')).toBe('timeout');
    expect(classifyNetworkError('UND_ERR_ABORTED')).toBe('aborted');
    expect(classifyNetworkError('EPROTO')).toBe('other');
    expect(classifyNetworkError(null)).toBe('other');
  });
});
