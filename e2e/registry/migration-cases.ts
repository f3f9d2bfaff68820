/**
 * The registry's migrations, from e2e/registry.test.ts: the table made, a second run a no-op,
 * concurrent runs without a race, every NNNN_*.sql file in order, a failing one rolled back, and
 * a seed-made table upgraded in place.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  Heartbeat,
  MIGRATIONS_DIR,
  createPool,
  listNodes,
  migrate,
} from '../../src/registry/index.ts';
import { tempDir } from '../support/services.ts';
import { cleanups, freshDb, ID, SNAPSHOT } from './db.ts';

async function columnTypes(pool: pg.Pool): Promise<Record<string, string>> {
  const { rows } = await pool.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_name = 'gemini_service_nodes'`,
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

/** Defines the cases. */
export function migrationCases(): void {
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
      fs.copyFileSync(
        path.join(MIGRATIONS_DIR, '0001_nodes.sql'),
        path.join(dir, '0001_nodes.sql'),
      );
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

      const hb = new Heartbeat({
        pool,
        identity: ID,
        snapshot: () => SNAPSHOT,
        intervalMs: 60_000,
      });
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
}
