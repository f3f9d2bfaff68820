/**
 * What the cases of e2e/registry.test.ts share: a fresh database per test on the shared server
 * (dropped by the suite's afterEach through `cleanups`), the node the heartbeats write, and a
 * poll.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { inject } from 'vitest';
import { createPool, type NodeSnapshot } from '../../src/registry/index.ts';

/** What the suite undoes after each test, last first. */
export const cleanups: (() => Promise<void> | void)[] = [];

/** A fresh database on the shared server, dropped after the test. */
export async function freshDb(): Promise<{ pool: pg.Pool; url: string }> {
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

/** A heartbeat's snapshot of an idle node. */
export const SNAPSHOT: NodeSnapshot = {
  currentTasks: 0,
  queueWaiting: 0,
  cooldownUntil: null,
  cooldownReason: null,
  loginState: 'unknown',
  hasServed: false,
  models: ['gemini-2.5-flash', 'gemini-2.5-pro'],
  version: '0.1.0',
};

/** The node the heartbeats write. */
export const ID = {
  nodeUrl: 'http://10.0.0.5:8001',
  workerId: 'gemini-worker-01',
  weight: 1.5,
  account: 'acc@example.com',
};

/** Polls `cond` every 50 ms until it holds; throws after `timeoutMs`. */
export async function until(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(50);
  }
}
