import { describe, expect, it } from 'vitest';
import {
  classifyNetworkError,
  decideFailover,
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
  it.each([200, 201, 400, 401, 404, 413, 500, 504])('forwards status %i as it is', (status) => {
    expect(decideFailover({ kind: 'response', status }, ctx())).toEqual({ action: 'forward' });
  });

  it.each([429, 502, 503])('moves status %i to another node while attempts remain', (status) => {
    expect(decideFailover({ kind: 'response', status }, ctx())).toEqual({
      action: 'retry',
      reason: `status_${status}`,
    });
    expect(decideFailover({ kind: 'response', status }, ctx({ attempt: 2 })).action).toBe('retry');
  });

  it('forwards the last upstream error once the attempts are used up', () => {
    expect(decideFailover({ kind: 'response', status: 503 }, ctx({ attempt: 3 }))).toEqual({
      action: 'forward',
    });
    expect(decideFailover({ kind: 'response', status: 429 }, ctx({ maxAttempts: 1 }))).toEqual({
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
    'keeps a reset before the response (%s) on its node unless told to move it',
    (code) => {
      // The worker may already have sent the prompt upstream: moving it could answer it twice.
      expect(decideFailover({ kind: 'network', code }, ctx())).toEqual({
        action: 'fail',
        reason: 'not_retryable',
      });
      expect(decideFailover({ kind: 'network', code }, ctx({ retryOnReset: true }))).toEqual({
        action: 'retry',
        reason: 'reset',
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
      { kind: 'response', status: 503 },
      { kind: 'network', code: 'ECONNREFUSED' },
    ] as const) {
      expect(decideFailover(outcome, ctx({ clientCommitted: true }))).toEqual({
        action: 'fail',
        reason: 'committed',
      });
    }
  });

  it('stops when the client went away', () => {
    expect(decideFailover({ kind: 'response', status: 503 }, ctx({ clientAborted: true }))).toEqual(
      {
        action: 'fail',
        reason: 'client_aborted',
      },
    );
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
