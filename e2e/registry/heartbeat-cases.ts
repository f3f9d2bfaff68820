/**
 * The heartbeat's row, from e2e/registry.test.ts: draining (migration 0004), its statuses,
 * OFFLINE on close(), and the table made when the database is empty.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Heartbeat, listNodes, migrate, type NodeSnapshot } from '../../src/registry/index.ts';
import { cleanups, freshDb, ID, SNAPSHOT, until } from './db.ts';

/** Defines the cases. */
export function heartbeatCases(): void {
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
      const hb = new Heartbeat({
        pool,
        identity: ID,
        snapshot: () => SNAPSHOT,
        intervalMs: 60_000,
      });
      expect(await hb.beat()).toBe(true);
      expect((await listNodes(pool)).map((r) => r.node_url)).toEqual([ID.nodeUrl]);
    });
  });
}
