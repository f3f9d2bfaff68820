/**
 * The gateway's PostgreSQL side, from e2e/gateway.test.ts: migration 0002 and the binding store
 * (idempotent, upserts, lookups in the caller's order, pruning), and the NodeSource reader.
 */
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { NodeSource, PgBindingStore } from '../../src/gateway/index.ts';
import { createLogger } from '../../src/logging.ts';
import { MIGRATIONS_DIR, migrate } from '../../src/registry/index.ts';
import { insertNode } from './registry.ts';

const BINDINGS_SQL = fs.readFileSync(
  path.join(MIGRATIONS_DIR, '0002_conversation_bindings.sql'),
  'utf8',
);

const logger = createLogger({ silent: true });

/** Defines the cases; `pool()` is the suite's migrated database of its own. */
export function registryCases(pool: () => pg.Pool): void {
  describe('conversation bindings (migration 0002)', () => {
    it('is idempotent, upserts, looks up in the caller’s order, and prunes by age', async () => {
      expect(await migrate(pool())).toEqual([]);
      // The file itself is safe to run twice, should anyone apply it by hand.
      await pool().query(BINDINGS_SQL);
      const store = new PgBindingStore(pool(), logger, { flushMs: 60_000 });
      await store.save(['k1', 'k2'], { nodeUrl: 'http://a', account: 'acct-a' });
      await store.save(['k3'], { nodeUrl: 'http://c', account: 'acct-c' });
      await store.flush();
      await store.save(['k1'], { nodeUrl: 'http://b', account: null });
      await store.close();
      // A second store (another replica) sees what the first wrote, in the caller's key order.
      const other = new PgBindingStore(pool(), logger);
      expect(await other.lookup(['none', 'k2'])).toEqual({
        nodeUrl: 'http://a',
        account: 'acct-a',
      });
      expect(await other.lookup(['k1', 'k2'])).toEqual({ nodeUrl: 'http://b', account: null });
      expect(await other.lookup(['k2', 'k1'])).toEqual({ nodeUrl: 'http://a', account: 'acct-a' });
      expect(await other.lookup([])).toBeNull();
      await pool().query(
        `update gemini_conversation_bindings set updated_at = now() - interval '2 days' where key = 'k2'`,
      );
      expect(await other.prune(24 * 3600_000)).toBe(1);
      expect(await other.lookup(['k2'])).toBeNull();
      expect(await other.lookup(['k3'])).toEqual({ nodeUrl: 'http://c', account: 'acct-c' });
      await other.close();
    });
  });

  describe('NodeSource against PostgreSQL', () => {
    it('reads rows with ages rebased onto the local clock', async () => {
      await insertNode(pool(), {
        node_url: 'http://source-test',
        heartbeat_age_s: 20,
        cooldown_s: 30,
        status: '429_LIMIT',
      });
      const source = new NodeSource(pool(), logger);
      await source.refresh();
      const n = source.snapshot().nodes.find((x) => x.nodeUrl === 'http://source-test');
      expect(source.snapshot().error).toBeNull();
      expect(Date.now() - (n?.lastHeartbeatMs ?? 0)).toBeGreaterThan(19_000);
      expect(Date.now() - (n?.lastHeartbeatMs ?? 0)).toBeLessThan(25_000);
      expect((n?.cooldownUntilMs ?? 0) - Date.now()).toBeGreaterThan(25_000);
      expect(n?.models).toEqual(['gemini-2.5-flash']);
      await source.close();
      await pool().query(`delete from gemini_service_nodes`);
    });
  });
}
