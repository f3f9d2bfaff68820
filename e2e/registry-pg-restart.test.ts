/**
 * PostgreSQL restarted under a running heartbeat: the heartbeat keeps going while the database is
 * away, logs the loss and the return once each (not once per beat), and the row is fresh again
 * after the database returns.
 */
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging.ts';
import { Heartbeat, createPool, listNodes, migrate } from '../src/registry/index.ts';
import { startPostgres, type ServiceHandle } from './support/services.ts';

let pgServer: ServiceHandle;
beforeAll(async () => {
  pgServer = await startPostgres();
});
afterAll(async () => {
  await pgServer.stop();
});

async function until(cond: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(100);
  }
}

describe('heartbeat across a PostgreSQL restart', () => {
  it('keeps going, logs once per change, and the row is fresh again after', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().trim().split('\n')));
    const logger = createLogger({ stream });
    const pool = createPool({ connectionString: pgServer.url }, { connectTimeoutMs: 1000 });
    await migrate(pool);
    const hb = new Heartbeat({
      pool,
      identity: { nodeUrl: 'http://127.0.0.1:8000', workerId: 'w1', weight: 1, account: 'a' },
      snapshot: () => ({
        currentTasks: 0,
        queueWaiting: 0,
        cooldownUntil: null,
        cooldownReason: null,
        loginState: 'logged_in',
        hasServed: true,
        models: [],
        version: 'test',
      }),
      intervalMs: 150,
      maxBackoffMs: 400,
      logger,
    });
    try {
      hb.start();
      await until(() => hb.healthy === true);

      await pgServer.stop();
      await until(() => hb.healthy === false);
      // Several failed beats while it is down...
      await sleep(1500);
      const backAt = Date.now();
      await pgServer.start();
      await until(async () => {
        const rows = await listNodes(pool).catch(() => []);
        return (rows[0]?.last_heartbeat.getTime() ?? 0) >= backAt - 1000 && hb.healthy === true;
      });
      const row = (await listNodes(pool))[0];
      expect(row).toMatchObject({ status: 'HEALTHY', node_url: 'http://127.0.0.1:8000' });

      const messages = lines.map((l) => (JSON.parse(l) as { message: string }).message);
      // ...logged once: lost once, ok at start and once when back.
      expect(messages.filter((m) => m.startsWith('registry unreachable'))).toHaveLength(1);
      expect(messages.filter((m) => m === 'registry heartbeat ok')).toHaveLength(2);
    } finally {
      await hb.close();
      await pool.end();
    }
  });
});
