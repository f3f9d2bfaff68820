/**
 * The registry against the shared real PostgreSQL, each test in its own fresh database:
 * migrations (twice, concurrently, extra files, a seed-made table upgraded in place) and the
 * heartbeat's rows and statuses, down to OFFLINE on close().
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  Heartbeat,
  MIGRATIONS_DIR,
  createPool,
  listNodes,
  migrate,
  type NodeSnapshot,
} from '../src/registry/index.ts';
import { AccountState, runGuarded, type AccountSnapshot } from '../src/account/index.ts';
import { GeminiError } from '../src/gemini/index.ts';
import { createCommandRedis } from '../src/queue/index.ts';
import { tempDir } from './support/services.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

/** A fresh database on the shared server, dropped after the test. */
async function freshDb(): Promise<{ pool: pg.Pool; url: string }> {
  const adminUrl = inject('pgUrl');
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`);
  const pool = createPool({ connectionString: url });
  cleanups.push(async () => {
    await pool.end();
    const a = new pg.Client({ connectionString: adminUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.end();
  });
  return { pool, url };
}

async function columnTypes(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_name = 'gemini_service_nodes'`,
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

const SNAPSHOT: NodeSnapshot = {
  currentTasks: 0,
  queueWaiting: 0,
  cooldownUntil: null,
  cooldownReason: null,
  loginState: 'unknown',
  hasServed: false,
  models: ['gemini-2.5-flash', 'gemini-2.5-pro'],
  version: '0.1.0',
};

const ID = {
  nodeUrl: 'http://10.0.0.5:8001',
  workerId: 'gemini-worker-01',
  weight: 1.5,
  account: 'acc@example.com',
};

describe('migrations', () => {
  it('create the table; a second run is a no-op', async () => {
    const { pool } = await freshDb();
    expect(await migrate(pool)).toContain('0001_nodes.sql');
    expect(await migrate(pool)).toEqual([]);
    expect(await columnTypes(pool)).toMatchObject({
      node_url: 'text',
      worker_id: 'text',
      weight: 'double precision',
      status: 'text',
      last_heartbeat: 'timestamp with time zone',
      created_at: 'timestamp with time zone',
      dispatched_tasks: 'integer',
      current_tasks: 'integer',
      account: 'text',
      cooldown_until: 'timestamp with time zone',
      cooldown_reason: 'text',
      login_state: 'text',
      version: 'text',
      models: 'ARRAY',
      queue_waiting: 'integer',
    });
    const { rows } = await pool.query<{ version: string }>(
      'SELECT version FROM gemini_schema_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toContain('0001');
  });

  it('run concurrently from several processes without a race (advisory lock)', async () => {
    const { url } = await freshDb();
    const pools = [0, 1, 2, 3].map(() => createPool({ connectionString: url }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      expect(results.filter((r) => r.includes('0001_nodes.sql'))).toHaveLength(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('pick up every NNNN_*.sql file in order, then nothing', async () => {
    const { pool } = await freshDb();
    const dir = tempDir('migrations');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.copyFileSync(path.join(MIGRATIONS_DIR, '0001_nodes.sql'), path.join(dir, '0001_nodes.sql'));
    fs.writeFileSync(
      path.join(dir, '0003_after.sql'),
      'ALTER TABLE extra ADD COLUMN third integer;',
    );
    fs.writeFileSync(path.join(dir, '0002_extra.sql'), 'CREATE TABLE extra (id integer);');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a migration');
    expect(await migrate(pool, { dir })).toEqual([
      '0001_nodes.sql',
      '0002_extra.sql',
      '0003_after.sql',
    ]);
    expect(await migrate(pool, { dir })).toEqual([]);
  });

  it('a failing migration rolls back and is not recorded', async () => {
    const { pool } = await freshDb();
    const dir = tempDir('migrations-bad');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, '0001_bad.sql'), 'CREATE TABLE half (id int); SELECT nope;');
    await expect(migrate(pool, { dir })).rejects.toThrow(/0001_bad\.sql/);
    const { rows } = await pool.query("SELECT to_regclass('half') AS t");
    expect(rows[0]).toEqual({ t: null });
  });

  it('upgrade a seed-made table in place, keeping its rows', async () => {
    const { pool } = await freshDb();
    await pool.query(`CREATE TABLE gemini_service_nodes (
      node_url VARCHAR NOT NULL PRIMARY KEY, worker_id VARCHAR, weight FLOAT, status VARCHAR,
      last_heartbeat TIMESTAMP WITHOUT TIME ZONE, created_at TIMESTAMP WITHOUT TIME ZONE,
      dispatched_tasks INTEGER, current_tasks INTEGER, error_count INTEGER)`);
    await pool.query(`INSERT INTO gemini_service_nodes VALUES
      ('http://10.0.0.5:8001', 'gemini-worker-01', 1.0, 'HEALTHY', '2026-01-31 12:00:00',
       '2026-01-30 08:00:00', 1, 0, 2),
      ('http://10.0.0.6:8002', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`);
    await migrate(pool);
    expect(await columnTypes(pool)).toMatchObject({
      node_url: 'text',
      last_heartbeat: 'timestamp with time zone',
      created_at: 'timestamp with time zone',
      login_state: 'text',
      error_count: 'integer',
    });
    const rows = await listNodes(pool);
    expect(rows).toHaveLength(2);
    // Naive seed times were Asia/Shanghai (UTC+8).
    expect(rows[0]?.last_heartbeat.toISOString()).toBe('2026-01-31T04:00:00.000Z');
    expect(rows[0]).toMatchObject({ dispatched_tasks: 1, status: 'HEALTHY', models: [] });
    expect(rows[1]).toMatchObject({
      worker_id: 'http://10.0.0.6:8002',
      weight: 1,
      status: 'INIT',
      current_tasks: 0,
      login_state: 'unknown',
      queue_waiting: 0,
    });

    const hb = new Heartbeat({ pool, identity: ID, snapshot: () => SNAPSHOT, intervalMs: 60_000 });
    expect(await hb.beat()).toBe(true);
    const after = await listNodes(pool);
    expect(after[0]).toMatchObject({ worker_id: ID.workerId, weight: 1.5, dispatched_tasks: 1 });
    expect(await migrate(pool)).toEqual([]);
  });

  it('give a seed table made without a primary key one, keeping the freshest row', async () => {
    const { pool } = await freshDb();
    await pool.query(`CREATE TABLE gemini_service_nodes (node_url VARCHAR, worker_id VARCHAR,
      weight FLOAT, status VARCHAR, last_heartbeat TIMESTAMP, created_at TIMESTAMP,
      dispatched_tasks INTEGER, current_tasks INTEGER)`);
    await pool.query(`INSERT INTO gemini_service_nodes VALUES
      ('http://a:1', 'new', 1, 'HEALTHY', '2026-01-31 12:00:00', '2026-01-30 08:00:00', 0, 0),
      ('http://a:1', 'old', 1, 'HEALTHY', '2026-01-30 12:00:00', '2026-01-30 08:00:00', 0, 0)`);
    await migrate(pool);
    const rows = await listNodes(pool);
    expect(rows.map((r) => r.worker_id)).toEqual(['new']);
  });
});

describe('heartbeat', () => {
  it('writes draining (migration 0004), and adds the column back to an older schema', async () => {
    const { pool } = await freshDb();
    expect(await migrate(pool)).toContain('0004_node_drain.sql');
    // A database migrated by an older release: no draining column, 0004 not recorded.
    await pool.query('ALTER TABLE gemini_service_nodes DROP COLUMN draining');
    await pool.query(`DELETE FROM gemini_schema_migrations WHERE name = '0004_node_drain.sql'`);
    const hb = new Heartbeat({
      pool,
      identity: ID,
      snapshot: () => ({ ...SNAPSHOT, draining: true }),
      intervalMs: 100,
    });
    cleanups.push(() => hb.close());
    expect(await hb.beat()).toBe(true);
    expect((await listNodes(pool))[0]).toMatchObject({ node_url: ID.nodeUrl, draining: true });
  });

  it('writes the row with its statuses, and OFFLINE on close()', async () => {
    const { pool } = await freshDb();
    await migrate(pool);
    let snap: NodeSnapshot = SNAPSHOT;
    const hb = new Heartbeat({ pool, identity: ID, snapshot: () => snap, intervalMs: 100 });
    cleanups.push(() => hb.close());
    hb.start();
    const row = async () => (await listNodes(pool))[0];
    await until(async () => (await row())?.status === 'INIT');
    expect(await row()).toMatchObject({
      node_url: ID.nodeUrl,
      worker_id: ID.workerId,
      weight: 1.5,
      account: ID.account,
      models: ['gemini-2.5-flash', 'gemini-2.5-pro'],
      version: '0.1.0',
      login_state: 'unknown',
      dispatched_tasks: 0,
    });

    snap = { ...SNAPSHOT, loginState: 'logged_in' };
    await until(async () => (await row())?.status === 'HEALTHY');
    snap = { ...snap, currentTasks: 1, queueWaiting: 3 };
    await until(async () => (await row())?.status === 'BUSY');
    expect(await row()).toMatchObject({ current_tasks: 1, queue_waiting: 3 });

    const until60 = Date.now() + 60_000;
    snap = { ...snap, currentTasks: 0, cooldownUntil: until60, cooldownReason: 'quota' };
    await until(async () => (await row())?.status === '429_LIMIT');
    expect((await row())?.cooldown_until?.getTime()).toBe(until60);
    expect((await row())?.cooldown_reason).toBe('quota');

    snap = { ...snap, cooldownUntil: null, cooldownReason: null, loginState: 'login_required' };
    await until(async () => (await row())?.status === 'INIT');

    const before = (await row())?.last_heartbeat.getTime() ?? 0;
    await hb.close();
    await hb.close();
    expect(await row()).toMatchObject({ status: 'OFFLINE', current_tasks: 0 });
    await sleep(300);
    expect((await row())?.status).toBe('OFFLINE');
    expect((await row())?.last_heartbeat.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('creates the table itself when the database is empty', async () => {
    const { pool } = await freshDb();
    const hb = new Heartbeat({ pool, identity: ID, snapshot: () => SNAPSHOT, intervalMs: 60_000 });
    expect(await hb.beat()).toBe(true);
    expect((await listNodes(pool)).map((r) => r.node_url)).toEqual([ID.nodeUrl]);
  });
});

async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(50);
  }
}

/** How the worker maps its account's state onto the registry row (the lead wires the same). */
function fromAccount(a: AccountSnapshot, currentTasks: number, queueWaiting: number): NodeSnapshot {
  return {
    currentTasks,
    queueWaiting,
    cooldownUntil: a.cooldown?.until ?? null,
    cooldownReason: a.cooldown?.reason ?? null,
    loginState: a.loginState,
    hasServed: a.lastSuccessAt !== null,
    models: ['gemini-2.5-flash'],
    version: '0.1.0',
  };
}

describe('account state in the registry', () => {
  it('a quota failure shows as 429_LIMIT with cooldown_until and reason; reset() clears it', async () => {
    const { pool } = await freshDb();
    await migrate(pool);
    const redis = createCommandRedis(inject('redisUrl'));
    const dataDir = tempDir('registry-account');
    const account = await AccountState.open({
      account: ID.account,
      dataDir,
      redis,
      keyPrefix: `t-${randomUUID()}:`,
      cooldown: { quotaMs: 3_600_000, jitterMs: 300_000, transientMs: 60_000 },
    });
    cleanups.push(async () => {
      await account.close();
      redis.disconnect();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });
    const hb = new Heartbeat({
      pool,
      identity: ID,
      snapshot: () => fromAccount(account.snapshot(), 0, 0),
      intervalMs: 60_000,
    });
    // eslint-disable-next-line require-yield
    const quota = async function* () {
      throw new GeminiError('quota', 'usage limit', { upstreamCode: 1037, httpStatus: 429 });
    };
    const job = {
      requestId: 'r',
      model: { name: 'm', header: null, thinking: false },
      prompt: 'p',
      inputs: [],
      chat: null,
      replayPrompt: null,
    };
    await expect(
      (async () => {
        for await (const _ of runGuarded(
          job,
          { account, generate: quota },
          new AbortController().signal,
        )) {
          // nothing is yielded
        }
      })(),
    ).rejects.toMatchObject({ status: 429 });

    await hb.beat();
    const cooling = (await listNodes(pool))[0];
    expect(cooling).toMatchObject({ status: '429_LIMIT', cooldown_reason: 'quota' });
    expect(cooling?.cooldown_until?.getTime()).toBe(account.snapshot().cooldown?.until);
    expect(cooling?.cooldown_until?.getTime()).toBeGreaterThan(Date.now() + 3_500_000);

    await account.reset();
    await hb.beat();
    expect((await listNodes(pool))[0]).toMatchObject({
      status: 'INIT',
      cooldown_until: null,
      cooldown_reason: null,
    });
  });
});
