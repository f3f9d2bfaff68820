/**
 * The registry against the shared real PostgreSQL, each test in its own fresh database:
 * migrations (twice, concurrently, extra files, a seed-made table upgraded in place) and the
 * heartbeat's rows and statuses, down to OFFLINE on close().
 * The cases live in e2e/registry/; this file only drops each test's database after it.
 */
import { afterEach } from 'vitest';
import { accountCases } from './registry/account-cases.ts';
import { cleanups } from './registry/db.ts';
import { heartbeatCases } from './registry/heartbeat-cases.ts';
import { migrationCases } from './registry/migration-cases.ts';

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

migrationCases();
heartbeatCases();
accountCases();
