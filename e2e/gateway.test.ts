/**
 * The gateway against real PostgreSQL (migrated by the registry's migrate()) and real headless
 * Chromium: migration 0002 and the binding store, the registry reader, and the operator console
 * (what it shows matches the rows, and it follows them as they change, without a reload). Then
 * in front of three real worker processes (a free, a Pro and a Plus account) and the emulator:
 * each worker lists its account's models and the gateway their union, a paid model goes only to
 * a paid node, a withdrawn model disappears within one discovery period, protocol drift is
 * counted and shown; branches continue from the right turn, uploads and conversation ids route
 * to their node, it routes through a minute without PostgreSQL, and a worker SIGKILLed
 * mid-stream costs exactly one upstream send and a clear error.
 * The cases live in e2e/gateway/ (and e2e/support/gateway-models.ts); this file only makes the
 * database and the stack and runs them, in order.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject } from 'vitest';
import { createPool, migrate } from '../src/registry/index.ts';
import { startGatewayStack, type GatewayStack } from './support/gateway-stack.ts';
import { DISCOVERY_S, defineModelTests } from './support/gateway-models.ts';
import { defineDiscoveryTests } from './gateway/discovery-cases.ts';
import { dashboardCases } from './gateway/dashboard-cases.ts';
import { outageCases } from './gateway/outage-cases.ts';
import { registryCases } from './gateway/registry-cases.ts';
import { routingCases } from './gateway/routing-cases.ts';

const dbName = `gk_gateway_${randomUUID().replaceAll('-', '')}`;
let admin: pg.Client;
let pool: pg.Pool;

beforeAll(async () => {
  // A database of its own: other suites migrate the shared one their own way.
  admin = new pg.Client({ connectionString: inject('pgUrl') });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(inject('pgUrl'));
  url.pathname = `/${dbName}`;
  pool = createPool({ connectionString: url.toString() });
  const applied = await migrate(pool);
  expect(applied).toContain('0002_conversation_bindings.sql');
});

afterAll(async () => {
  await pool?.end();
  await admin?.query(`drop database if exists ${dbName} with (force)`);
  await admin?.end();
});

registryCases(() => pool);
dashboardCases(() => pool);

describe('in front of real workers', () => {
  let stack: GatewayStack;
  const run = Date.now().toString(36);

  beforeAll(async () => {
    stack = await startGatewayStack(3, {
      tiers: ['free', 'pro', 'plus'],
      workerEnv: { MODEL_DISCOVERY_INTERVAL_S: String(DISCOVERY_S) },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  defineModelTests(() => stack, run);
  defineDiscoveryTests(() => stack, run);
  routingCases(() => stack, run);
  // Last: these stop PostgreSQL and kill a worker.
  outageCases(() => stack, run);
});
