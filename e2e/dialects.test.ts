/**
 * Every client's own dialect on the same accounts: the official Anthropic and Google SDKs,
 * pointed at a worker and at the gateway in front of it (one stack, real keys, the emulator).
 * The cases live in e2e/dialects/, one file per dialect; this file only starts the stack and
 * runs each dialect's cases against both targets.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGatewayStack, untilHealth, type GatewayStack } from './support/gateway-stack.ts';
import { deepJsonCases } from './dialects/deep-json-cases.ts';
import { anthropicCases } from './dialects/anthropic-cases.ts';
import { googleCases } from './dialects/google-cases.ts';
import { gatewayCases } from './dialects/gateway-cases.ts';
import { toolChoiceCases } from './dialects/tool-choice-cases.ts';
import type { DialectTarget } from './dialects/target.ts';

const API_KEY = 'sk-dialects-e2e-user-0001';
const ADMIN_KEY = 'sk-dialects-e2e-admin-0001';
let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack(1, { env: { API_KEYS: API_KEY, ADMIN_API_KEYS: ADMIN_KEY } });
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** The worker's admin reset, then a heartbeat after it, then the gateway's view of it. */
async function resetCooldown(): Promise<void> {
  const { worker } = stack.workers[0]!;
  const since = new Date();
  const res = await fetch(`${worker.url}/admin/cooldown/reset`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(res.status).toBe(200);
  const healthySince = async () =>
    (
      await stack.pool.query(
        `select 1 from gemini_service_nodes
          where node_url = $1 and status = 'HEALTHY' and last_heartbeat > $2`,
        [worker.url, since],
      )
    ).rowCount;
  const deadline = Date.now() + 15_000;
  while (!(await healthySince())) {
    expect(Date.now()).toBeLessThan(deadline);
    await sleep(100);
  }
  await untilHealth(stack.url, (h) => h.eligible >= 1);
}

const TARGETS: Readonly<Record<string, () => string>> = {
  worker: () => stack.workers[0]!.worker.url,
  gateway: () => stack.url,
};

for (const [name, origin] of Object.entries(TARGETS)) {
  const target = (): DialectTarget => ({
    name,
    origin: origin(),
    apiKey: API_KEY,
    emulator: stack.emulator,
    email: stack.workers[0]!.email,
    resetCooldown,
    untilCooling:
      name === 'gateway'
        ? () => untilHealth(stack.url, (h) => h.eligible === 0).then(() => undefined)
        : async () => {},
  });
  it(`refuses a wrong key in each dialect's own error shape via ${name}`, async () => {
    const anthropic = await fetch(`${origin()}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-wrong-key-0001', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(anthropic.status).toBe(401);
    expect(await anthropic.json()).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });
    const google = await fetch(
      `${origin()}/v1beta/models/gemini-2.5-flash:generateContent?key=sk-wrong-key-0001`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    );
    expect(google.status).toBe(401);
    expect(await google.json()).toMatchObject({
      error: { code: 401, status: 'UNAUTHENTICATED' },
    });
  });
  deepJsonCases(name, target, {
    adminKey: ADMIN_KEY,
    workerUrl: () => stack.workers[0]!.worker.url,
  });
  anthropicCases(name, target);
  googleCases(name, target);
}

toolChoiceCases({ stack: () => stack, apiKey: API_KEY, adminKey: ADMIN_KEY });

// Last: the gateway's own side (failover, streaming relay, metrics by dialect), by raw fetch.
gatewayCases({ stack: () => stack, apiKey: API_KEY, adminKey: ADMIN_KEY });
