import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgBindingStore } from '../../../src/gateway/index.ts';
import { createLogger } from '../../../src/logging.ts';

interface Call {
  sql: string;
  params: unknown[];
}

/** A pool that records queries; lookups answer `rows`, writes (or everything) may fail. */
function fakePool(
  rows: object[] = [],
  failWrites = false,
  down: { value: boolean } = { value: false },
): { pool: pg.Pool; calls: Call[] } {
  const calls: Call[] = [];
  const pool = {
    query: async (sql: string, params: unknown[] = []) => {
      calls.push({ sql, params });
      if (down.value || (failWrites && sql.includes('insert'))) {
        throw new Error('connection terminated');
      }
      return { rows: sql.includes('select key') ? rows : [], rowCount: 0 };
    },
  } as unknown as pg.Pool;
  return { pool, calls };
}

const logger = createLogger({ silent: true });
const writes = (calls: Call[]) => calls.filter((c) => c.sql.includes('insert'));
const reads = (calls: Call[]) => calls.filter((c) => c.sql.includes('select key'));

describe('PgBindingStore', () => {
  it('batches saves into one upsert, the latest binding of a key winning', async () => {
    const { pool, calls } = fakePool();
    const store = new PgBindingStore(pool, logger, { flushMs: 60_000 });
    await store.save(['k1', 'k2'], { nodeUrl: 'http://a', account: 'a' });
    await store.save(['k2', 'k3'], { nodeUrl: 'http://b', account: null });
    expect(writes(calls)).toHaveLength(0);
    await store.close();
    expect(writes(calls)).toHaveLength(1);
    expect(writes(calls)[0]?.params).toEqual([
      ['k1', 'k2', 'k3'],
      ['http://a', 'http://b', 'http://b'],
      ['a', null, null],
    ]);
    await store.close();
    expect(writes(calls)).toHaveLength(1);
  });

  it('writes within flushMs on its own, and at once when a batch is full', async () => {
    const { pool, calls } = fakePool();
    const timed = new PgBindingStore(pool, logger, { flushMs: 10 });
    await timed.save(['k'], { nodeUrl: 'http://a', account: 'a' });
    await new Promise((r) => setTimeout(r, 50));
    expect(writes(calls)).toHaveLength(1);
    const full = new PgBindingStore(pool, logger, { flushMs: 60_000, maxBatch: 2 });
    await full.save(['x', 'y'], { nodeUrl: 'http://a', account: 'a' });
    await full.flush();
    expect(writes(calls)).toHaveLength(2);
    await Promise.all([timed.close(), full.close()]);
  });

  it("answers lookups in the caller's key order, pending saves first", async () => {
    const { pool } = fakePool([
      { key: 'db-1', node_url: 'http://db1', account: 'x' },
      { key: 'db-2', node_url: 'http://db2', account: 'y' },
    ]);
    const store = new PgBindingStore(pool, logger, { flushMs: 60_000 });
    expect(await store.lookup(['db-2', 'db-1'])).toEqual({ nodeUrl: 'http://db2', account: 'y' });
    expect(await store.lookup(['nope'])).toBeNull();
    await store.save(['db-1'], { nodeUrl: 'http://new', account: 'z' });
    expect(await store.lookup(['db-1'])).toEqual({ nodeUrl: 'http://new', account: 'z' });
    await store.close();
  });

  it('logs a failed write instead of throwing', async () => {
    const { pool, calls } = fakePool([], true);
    const store = new PgBindingStore(pool, logger, { flushMs: 60_000 });
    await store.save(['k'], { nodeUrl: 'http://a', account: 'a' });
    await expect(store.flush()).resolves.toBeUndefined();
    expect(writes(calls)).toHaveLength(1);
  });

  it('answers lookups from memory while PostgreSQL is away, and writes what failed once it is back', async () => {
    const down = { value: false };
    const { pool, calls } = fakePool([], false, down);
    const store = new PgBindingStore(pool, logger, { flushMs: 5, backoffMs: 30 });
    await store.save(['conv-1', 'file:uploads/x.png'], { nodeUrl: 'http://a', account: 'a' });
    await store.flush();
    expect(writes(calls)).toHaveLength(1);
    down.value = true;
    // Not pending any more, and the database fails: the replica's memory answers.
    expect(await store.lookup(['file:uploads/x.png'])).toEqual({
      nodeUrl: 'http://a',
      account: 'a',
    });
    await store.save(['conv-2'], { nodeUrl: 'http://b', account: 'b' });
    await store.flush();
    expect(writes(calls)).toHaveLength(2);
    down.value = false;
    await new Promise((r) => setTimeout(r, 100));
    // Retried after the backoff: the failed batch was written.
    expect(writes(calls)).toHaveLength(3);
    expect(writes(calls)[2]?.params[0]).toEqual(['conv-2']);
    await store.close();
  });

  it('never waits on a lookup longer than lookupTimeoutMs', async () => {
    const pool = { query: () => new Promise(() => undefined) } as unknown as pg.Pool;
    const store = new PgBindingStore(pool, logger, { lookupTimeoutMs: 30 });
    const startedAt = Date.now();
    expect(await store.lookup(['k'])).toBeNull();
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });

  it('answers a binding it saved from memory, without asking PostgreSQL', async () => {
    const { pool, calls } = fakePool();
    const store = new PgBindingStore(pool, logger, { flushMs: 5 });
    await store.save(['hist-1', 'conv-1'], { nodeUrl: 'http://a', account: 'a' });
    await store.flush();
    const before = calls.length;
    expect(await store.lookup(['hist-1'])).toEqual({ nodeUrl: 'http://a', account: 'a' });
    expect(await store.lookup(['conv-1', 'hist-1'])).toEqual({ nodeUrl: 'http://a', account: 'a' });
    expect(reads(calls.slice(before))).toHaveLength(0);
    await store.close();
  });

  it('asks PostgreSQL on a miss, so a binding another replica wrote is found, then remembers it', async () => {
    const { pool, calls } = fakePool([{ key: 'other', node_url: 'http://b', account: 'b' }]);
    const store = new PgBindingStore(pool, logger);
    expect(await store.lookup(['other'])).toEqual({ nodeUrl: 'http://b', account: 'b' });
    expect(reads(calls)).toHaveLength(1);
    expect(await store.lookup(['other'])).toEqual({ nodeUrl: 'http://b', account: 'b' });
    expect(reads(calls)).toHaveLength(1);
    // Nothing is remembered of an absent key: it is asked again, as another replica may bind it.
    expect(await store.lookup(['absent'])).toBeNull();
    expect(await store.lookup(['absent'])).toBeNull();
    expect(reads(calls)).toHaveLength(3);
    await store.close();
  });

  it('asks PostgreSQL when only a less preferred key is remembered (a preferred one may be bound elsewhere)', async () => {
    const { pool, calls } = fakePool([{ key: 'hist-2', node_url: 'http://b', account: 'b' }]);
    const store = new PgBindingStore(pool, logger, { flushMs: 60_000 });
    await store.save(['conv-1'], { nodeUrl: 'http://a', account: 'a' });
    expect(await store.lookup(['hist-2', 'conv-1'])).toEqual({ nodeUrl: 'http://b', account: 'b' });
    expect(reads(calls)).toHaveLength(1);
    await store.close();
  });

  it('asks PostgreSQL again once a remembered binding is older than cacheTtlMs', async () => {
    let now = 1_000_000;
    const { pool, calls } = fakePool([{ key: 'k', node_url: 'http://moved', account: 'b' }]);
    const store = new PgBindingStore(pool, logger, {
      flushMs: 5,
      cacheTtlMs: 1000,
      now: () => now,
    });
    await store.save(['k'], { nodeUrl: 'http://a', account: 'a' });
    await store.flush();
    expect(await store.lookup(['k'])).toEqual({ nodeUrl: 'http://a', account: 'a' });
    expect(reads(calls)).toHaveLength(0);
    now += 1001;
    // Another replica re-bound the key meanwhile: PostgreSQL's answer wins and is remembered.
    expect(await store.lookup(['k'])).toEqual({ nodeUrl: 'http://moved', account: 'b' });
    expect(await store.lookup(['k'])).toEqual({ nodeUrl: 'http://moved', account: 'b' });
    expect(reads(calls)).toHaveLength(1);
    await store.close();
  });

  it('a save replaces the remembered binding of its keys', async () => {
    const { pool, calls } = fakePool([{ key: 'k', node_url: 'http://a', account: 'a' }]);
    const store = new PgBindingStore(pool, logger, { flushMs: 5 });
    expect(await store.lookup(['k'])).toEqual({ nodeUrl: 'http://a', account: 'a' });
    await store.save(['k'], { nodeUrl: 'http://b', account: 'b' });
    await store.flush();
    expect(await store.lookup(['k'])).toEqual({ nodeUrl: 'http://b', account: 'b' });
    expect(reads(calls)).toHaveLength(1);
    await store.close();
  });

  it('remembers at most maxRemembered keys, the least recently used going first', async () => {
    const { pool, calls } = fakePool();
    const store = new PgBindingStore(pool, logger, { flushMs: 5, maxRemembered: 2 });
    await store.save(['k1'], { nodeUrl: 'http://1', account: null });
    await store.save(['k2'], { nodeUrl: 'http://2', account: null });
    await store.flush();
    expect(await store.lookup(['k1'])).toEqual({ nodeUrl: 'http://1', account: null });
    await store.save(['k3'], { nodeUrl: 'http://3', account: null });
    await store.flush();
    expect(reads(calls)).toHaveLength(0);
    // k2 was the least recently used: evicted, so PostgreSQL is asked (and has nothing here).
    expect(await store.lookup(['k2'])).toBeNull();
    expect(await store.lookup(['k1'])).toEqual({ nodeUrl: 'http://1', account: null });
    expect(await store.lookup(['k3'])).toEqual({ nodeUrl: 'http://3', account: null });
    expect(reads(calls)).toHaveLength(1);
    await store.close();
  });

  it('never queries for a request with no key (a first turn)', async () => {
    const { pool, calls } = fakePool();
    const store = new PgBindingStore(pool, logger);
    expect(await store.lookup([])).toBeNull();
    expect(calls).toHaveLength(0);
    await store.close();
  });

  it('forgets what it prunes, so a pruned key is asked of PostgreSQL again', async () => {
    const { pool, calls } = fakePool();
    const pruning = {
      query: async (sql: string, params: unknown[] = []) =>
        sql.includes('delete')
          ? { rows: [{ key: 'old' }], rowCount: 1 }
          : (pool.query as (s: string, p: unknown[]) => Promise<unknown>)(sql, params),
    } as unknown as pg.Pool;
    const store = new PgBindingStore(pruning, logger, { flushMs: 5 });
    await store.save(['old', 'kept'], { nodeUrl: 'http://a', account: 'a' });
    await store.flush();
    expect(await store.prune(1000)).toBe(1);
    expect(await store.lookup(['old'])).toBeNull();
    expect(await store.lookup(['kept'])).toEqual({ nodeUrl: 'http://a', account: 'a' });
    expect(reads(calls)).toHaveLength(1);
    await store.close();
  });
});
