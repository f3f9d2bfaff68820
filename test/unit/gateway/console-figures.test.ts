/** The operator console's 15-minute figures per node, and its VNC links. */
import { describe, expect, it } from 'vitest';
import { ConsoleStats, quantile } from '../../../src/gateway/console/stats.ts';
import { vncUrlOf } from '../../../src/gateway/console/state.ts';

const response = (status: number, headers: Record<string, string> = {}) =>
  ({ kind: 'response', status, headers, body: null }) as never;

describe('console figures', () => {
  it('quantile picks the nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([10], 0.95)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).toBe(10);
  });

  it('counts attempts, errors, failovers and sends per node, and forgets after 15 minutes', () => {
    let now = 1_800_000_000_000;
    const stats = new ConsoleStats(() => now);
    const failure = {
      kind: 'saved',
      status: 429,
      headers: {},
      body: Buffer.from(JSON.stringify({ error: { code: 'usage_limit', message: 'Slow down' } })),
    } as const;
    stats.record({
      nodeUrl: 'a',
      attempt: 1,
      ms: 100,
      result: response(429),
      failure,
      failedOver: true,
    });
    stats.record({
      nodeUrl: 'b',
      attempt: 2,
      ms: 300,
      result: response(200, { 'x-upstream-sent': 'true' }),
      failure: null,
      failedOver: false,
    });
    stats.record({
      nodeUrl: 'b',
      attempt: 1,
      ms: 200,
      result: response(200, { 'x-upstream-sent': 'true' }),
      failure: null,
      failedOver: false,
    });
    const a = stats.figures('a');
    expect(a).toMatchObject({ requestsPerMin: 1, errorPct: 100, p50Ms: 100 });
    expect(a.lastError?.text).toBe('HTTP 429 usage_limit: Slow down');
    const b = stats.figures('b');
    expect(b).toMatchObject({
      requestsPerMin: 2,
      errorPct: 0,
      p50Ms: 200,
      p95Ms: 300,
      lastError: null,
    });
    expect(b.series.t).toHaveLength(60);
    expect(b.series.requestsPerMin.at(-1)).toBe(8);
    expect(stats.totals()).toEqual({
      requestsPerMin: 2,
      requests: 2,
      failedOver: 1,
      upstreamSends: 2,
    });
    now += 2 * 60_000;
    expect(stats.figures('b').requestsPerMin).toBe(0);
    expect(stats.totals().requests).toBe(2);
    now += 15 * 60_000;
    expect(stats.totals()).toEqual({
      requestsPerMin: 0,
      requests: 0,
      failedOver: 0,
      upstreamSends: 0,
    });
    expect(stats.figures('b').p95Ms).toBeNull();
  });

  it('fills the VNC template with URL-encoded values, and only yields http(s) links', () => {
    const n = { nodeUrl: 'http://10.0.0.7:8000', account: 'a b@x.com', workerId: 'w/1' } as never;
    expect(vncUrlOf('https://kasm/{account}/vnc.html?w={worker_id}&h={node_host}', n)).toBe(
      'https://kasm/a%20b%40x.com/vnc.html?w=w%2F1&h=10.0.0.7',
    );
    expect(vncUrlOf(null, n)).toBeNull();
    expect(vncUrlOf('{account}', n)).toBeNull();
  });
});
