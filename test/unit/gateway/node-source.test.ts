import type pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/logging.ts';
import { NodeSource, assertRoutable, toNodeRecord } from '../../../src/gateway/index.ts';

type Row = Parameters<typeof toNodeRecord>[0];

const row = (o: Partial<Row> = {}): Row => ({
  node_url: 'http://10.0.0.1:8000',
  worker_id: 'w1',
  account: 'a1',
  weight: 1,
  status: 'HEALTHY',
  login_state: 'logged_in',
  cooldown_reason: null,
  current_tasks: 2,
  dispatched_tasks: 0,
  queue_waiting: 1,
  version: '0.1.0',
  models: ['m'],
  heartbeat_age_ms: '1500.25',
  cooldown_left_ms: null,
  created_at_ms: '1700000000000.5',
  ...o,
});

/** A pool whose query answers from a list of results (an Error throws). */
function fakePool(results: (Row[] | Error | Promise<Row[]>)[]): {
  pool: pg.Pool;
  calls: () => number;
} {
  let calls = 0;
  const pool = {
    query: async () => {
      const next = results[Math.min(calls, results.length - 1)];
      calls++;
      const value = await next;
      if (value instanceof Error || value === undefined) {
        throw value ?? new Error('no result');
      }
      return { rows: value };
    },
  } as unknown as pg.Pool;
  return { pool, calls: () => calls };
}

const logger = createLogger({ silent: true });

describe('toNodeRecord', () => {
  it("rebases PostgreSQL's ages onto the gateway's clock", () => {
    const r = toNodeRecord(row({ cooldown_left_ms: 30_000, cooldown_reason: 'quota' }), 1_000_000);
    expect(r.lastHeartbeatMs).toBeCloseTo(1_000_000 - 1500.25);
    expect(r.cooldownUntilMs).toBe(1_030_000);
    expect(r.createdAtMs).toBe(1_700_000_000_001);
    expect(r).toMatchObject({
      nodeUrl: 'http://10.0.0.1:8000',
      currentTasks: 2,
      cooldownReason: 'quota',
    });
  });

  it('fills defaults for seed-era nulls', () => {
    const r = toNodeRecord(
      row({
        weight: null,
        status: null,
        current_tasks: null,
        models: null,
        heartbeat_age_ms: null,
      }),
      0,
    );
    expect(r).toMatchObject({
      weight: 1,
      status: 'INIT',
      currentTasks: 0,
      models: [],
      lastHeartbeatMs: null,
    });
  });
});

describe('NodeSource', () => {
  it('serves the last rows while PostgreSQL is away, and recovers', async () => {
    const { pool } = fakePool([
      [row()],
      new Error('connect ECONNREFUSED'),
      [row(), row({ node_url: 'http://b' })],
    ]);
    const source = new NodeSource(pool, logger, { refreshMs: 1000 });
    await source.start();
    expect(source.snapshot().nodes).toHaveLength(1);
    const firstRead = source.snapshot().fetchedAtMs;
    await source.refresh();
    expect(source.snapshot().nodes).toHaveLength(1);
    expect(source.snapshot().error).toContain('ECONNREFUSED');
    expect(source.snapshot().fetchedAtMs).toBe(firstRead);
    await source.refresh();
    expect(source.snapshot().nodes).toHaveLength(2);
    expect(source.snapshot().error).toBeNull();
    await source.close();
    await source.close();
  });

  it('holds heartbeat ages while PostgreSQL is away, up to maxStaleMs, then expires the table', async () => {
    let now = 1_000_000;
    const { pool } = fakePool([[row({ heartbeat_age_ms: 2000 })], new Error('ECONNREFUSED')]);
    const source = new NodeSource(pool, logger, { maxStaleMs: 300_000, now: () => now });
    await source.start();
    expect(source.snapshot().nodes[0]?.lastHeartbeatMs).toBe(998_000);
    await source.refresh();
    now += 60_000;
    await source.refresh();
    const held = source.snapshot();
    // A minute later the node is as fresh as it was at the last read: 2 s old.
    expect(now - (held.nodes[0]?.lastHeartbeatMs ?? 0)).toBe(2000);
    expect(held.expired).toBeUndefined();
    expect(() => assertRoutable(held, now)).not.toThrow();
    now += 240_001;
    const old = source.snapshot();
    expect(old.expired).toBe(true);
    // Expired: the heartbeats age again, and routing refuses with a clear message.
    expect(now - (old.nodes[0]?.lastHeartbeatMs ?? 0)).toBe(302_001);
    expect(() => assertRoutable(old, now)).toThrow(/PostgreSQL for 300 s/);
    await source.close();
  });

  it('shares one query among concurrent refreshes', async () => {
    let release!: (rows: Row[]) => void;
    const pending = new Promise<Row[]>((resolve) => (release = resolve));
    const { pool, calls } = fakePool([pending]);
    const source = new NodeSource(pool, logger);
    const all = Promise.all([source.refresh(), source.refresh(), source.refresh()]);
    release([row()]);
    await all;
    expect(calls()).toBe(1);
    expect(source.snapshot().nodes).toHaveLength(1);
  });

  it('gives up on a read slower than queryTimeoutMs', async () => {
    const { pool } = fakePool([new Promise<Row[]>(() => undefined)]);
    const source = new NodeSource(pool, logger, { queryTimeoutMs: 50 });
    await source.refresh();
    expect(source.snapshot().error).toContain('50 ms');
  });

  it('refreshes on its own at least once a second', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const { pool, calls } = fakePool([[row()]]);
      const source = new NodeSource(pool, logger, { refreshMs: 60_000 });
      await source.start();
      expect(calls()).toBe(1);
      // refreshMs is capped at 1000.
      await vi.advanceTimersByTimeAsync(1000);
      expect(calls()).toBe(2);
      await source.close();
      await vi.advanceTimersByTimeAsync(5000);
      expect(calls()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
