/**
 * The gateway against real PostgreSQL (migrated by the registry's migrate()) and real headless
 * Chromium: migration 0002 and the binding store, the registry reader, and the operator console (what it shows matches the rows, and it
 * follows them as they change, without a reload). Then in front of three real worker processes
 * (a free, a Pro and a Plus account) and the emulator: each worker lists its account's models and
 * the gateway their union, a paid model goes only to a paid node, a withdrawn model disappears
 * within one discovery period, protocol drift is counted and shown; branches continue from the
 * right turn, uploads and conversation ids route to their node, it routes through a minute
 * without PostgreSQL, and a worker SIGKILLed mid-stream costs exactly one upstream send and a
 * clear error.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { Gateway, NodeSource, PgBindingStore } from '../src/gateway/index.ts';
import { createLogger } from '../src/logging.ts';
import { MIGRATIONS_DIR, createPool, migrate } from '../src/registry/index.ts';
import { startChromium, type ChromiumHandle } from './support/services.ts';
import {
  startGatewayStack,
  stackHealth,
  untilHealth,
  type GatewayStack,
} from './support/gateway-stack.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import type { UpstreamRecord } from '../src/emulator/index.ts';
import { DISCOVERY_S, defineModelTests } from './support/gateway-models.ts';
import { defineDiscoveryTests } from './gateway/discovery-cases.ts';

const BINDINGS_SQL = fs.readFileSync(
  path.join(MIGRATIONS_DIR, '0002_conversation_bindings.sql'),
  'utf8',
);

const logger = createLogger({ silent: true });
const DASHBOARD_USER = 'sk-dashboard-user-1234';
const DASHBOARD_ADMIN = 'sk-dashboard-admin-1234';
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

interface NodeRow {
  node_url: string;
  worker_id?: string;
  weight?: number;
  status?: string;
  heartbeat_age_s?: number | null;
  account?: string;
  cooldown_s?: number | null;
  cooldown_reason?: string | null;
  login_state?: string;
  current_tasks?: number;
  models?: string[];
}

async function insertNode(r: NodeRow): Promise<void> {
  await pool.query(
    `insert into gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
       created_at, dispatched_tasks, current_tasks, account, cooldown_until, cooldown_reason,
       login_state, version, models, queue_waiting)
     values ($1, $2, $3, $4, now() - make_interval(secs => $5), now(), 0, $6, $7,
       now() + make_interval(secs => $8), $9, $10, '0.1.0', $11, 0)`,
    [
      r.node_url,
      r.worker_id ?? 'w',
      r.weight ?? 1,
      r.status ?? 'HEALTHY',
      r.heartbeat_age_s ?? 1,
      r.current_tasks ?? 0,
      r.account ?? 'acct',
      r.cooldown_s ?? null,
      r.cooldown_reason ?? null,
      r.login_state ?? 'logged_in',
      r.models ?? ['gemini-2.5-flash'],
    ],
  );
}

describe('conversation bindings (migration 0002)', () => {
  it('is idempotent, upserts, looks up in the caller’s order, and prunes by age', async () => {
    expect(await migrate(pool)).toEqual([]);
    // The file itself is safe to run twice, should anyone apply it by hand.
    await pool.query(BINDINGS_SQL);
    const store = new PgBindingStore(pool, logger, { flushMs: 60_000 });
    await store.save(['k1', 'k2'], { nodeUrl: 'http://a', account: 'acct-a' });
    await store.save(['k3'], { nodeUrl: 'http://c', account: 'acct-c' });
    await store.flush();
    await store.save(['k1'], { nodeUrl: 'http://b', account: null });
    await store.close();
    // A second store (another replica) sees what the first wrote, in the caller's key order.
    const other = new PgBindingStore(pool, logger);
    expect(await other.lookup(['none', 'k2'])).toEqual({ nodeUrl: 'http://a', account: 'acct-a' });
    expect(await other.lookup(['k1', 'k2'])).toEqual({ nodeUrl: 'http://b', account: null });
    expect(await other.lookup(['k2', 'k1'])).toEqual({ nodeUrl: 'http://a', account: 'acct-a' });
    expect(await other.lookup([])).toBeNull();
    await pool.query(
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
    await insertNode({
      node_url: 'http://source-test',
      heartbeat_age_s: 20,
      cooldown_s: 30,
      status: '429_LIMIT',
    });
    const source = new NodeSource(pool, logger);
    await source.refresh();
    const n = source.snapshot().nodes.find((x) => x.nodeUrl === 'http://source-test');
    expect(source.snapshot().error).toBeNull();
    expect(Date.now() - (n?.lastHeartbeatMs ?? 0)).toBeGreaterThan(19_000);
    expect(Date.now() - (n?.lastHeartbeatMs ?? 0)).toBeLessThan(25_000);
    expect((n?.cooldownUntilMs ?? 0) - Date.now()).toBeGreaterThan(25_000);
    expect(n?.models).toEqual(['gemini-2.5-flash']);
    await source.close();
    await pool.query(`delete from gemini_service_nodes`);
  });
});

describe('status dashboard in headless Chromium', () => {
  let chrome: ChromiumHandle;
  let browser: Browser;
  let page: Page;
  let gateway: Gateway;
  let gatewayUrl: string;
  let worker: http.Server;
  let workerUrl: string;
  let releaseWorker: (() => void) | null = null;

  beforeAll(async () => {
    // A worker that holds its answer until told, so the dashboard can show a request in flight.
    worker = http.createServer((req, res) => {
      req.resume();
      releaseWorker = () => {
        releaseWorker = null;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[]}');
      };
    });
    worker.listen(0, '127.0.0.1');
    await once(worker, 'listening');
    workerUrl = `http://127.0.0.1:${(worker.address() as AddressInfo).port}`;
    await insertNode({
      node_url: workerUrl,
      worker_id: 'worker-a',
      account: 'alice@example.com',
      weight: 1.5,
      current_tasks: 2,
    });
    await insertNode({
      node_url: 'http://10.9.0.2:8000',
      worker_id: 'worker-b',
      account: 'bob@example.com',
      status: '429_LIMIT',
      cooldown_s: 600,
      cooldown_reason: 'quota',
    });
    await insertNode({
      node_url: 'http://10.9.0.3:8000',
      worker_id: 'worker-c',
      heartbeat_age_s: 90,
    });
    await insertNode({
      node_url: 'http://10.9.0.4:8000',
      worker_id: '<img src=x onerror="window.__pwned=1">',
      login_state: 'login_required',
    });
    const config = loadConfig('gateway', {
      PORT: '0',
      DATABASE_URL: 'postgresql://unused@127.0.0.1/unused',
      API_KEYS: DASHBOARD_USER,
      ADMIN_API_KEYS: DASHBOARD_ADMIN,
    });
    gateway = new Gateway(config, logger, pool, {
      host: '127.0.0.1',
      refreshMs: 200,
      closeGraceMs: 500,
    });
    gatewayUrl = `http://127.0.0.1:${await gateway.listen()}`;
    chrome = await startChromium();
    browser = await chromium.connectOverCDP(chrome.url, { timeout: 15_000 });
    page = await (browser.contexts()[0] ?? (await browser.newContext())).newPage();
    // The console wants an admin key: HTTP Basic (any user name) signs in as well as its form.
    await page.setExtraHTTPHeaders({
      authorization: `Basic ${Buffer.from(`admin:${DASHBOARD_ADMIN}`).toString('base64')}`,
    });
  });

  afterAll(async () => {
    releaseWorker?.();
    await browser?.close();
    await chrome?.stop();
    await gateway?.close();
    worker?.closeAllConnections();
    await new Promise<void>((resolve) => (worker ? worker.close(() => resolve()) : resolve()));
  });

  const cell = (nodeUrl: string, col: string) =>
    page.locator(`article[data-node="${nodeUrl}"] [data-col="${col}"]`).textContent();

  it('shows what the registry holds', async () => {
    await page.goto(gatewayUrl);
    const { rows } = await pool.query<{
      node_url: string;
      status: string;
      login_state: string;
      weight: number;
      account: string;
      current_tasks: number;
    }>(
      'select node_url, status, login_state, weight, account, current_tasks from gemini_service_nodes',
    );
    expect(rows).toHaveLength(4);
    // The console fills its cards from its first poll.
    await expect.poll(() => page.locator('article[data-node]').count()).toBe(4);
    for (const r of rows) {
      expect(await cell(r.node_url, 'status')).toBe(r.status);
      expect(await cell(r.node_url, 'login')).toBe(r.login_state);
      expect(await cell(r.node_url, 'weight')).toBe(String(r.weight));
      expect(await cell(r.node_url, 'account')).toBe(r.account);
      expect(await cell(r.node_url, 'current-tasks')).toBe(String(r.current_tasks));
      expect(await cell(r.node_url, 'in-flight')).toBe('0');
    }
    expect(await cell(workerUrl, 'state')).toBe('eligible');
    expect(await cell('http://10.9.0.2:8000', 'state')).toBe('cooling');
    expect(await cell('http://10.9.0.2:8000', 'cooldown')).toMatch(/^(9|10) m \d\d s \(quota\)$/);
    expect(await cell('http://10.9.0.3:8000', 'state')).toBe('stale');
    expect(await cell('http://10.9.0.3:8000', 'heartbeat')).toMatch(/^1 m [3-5]\d s ago$/);
    expect(await cell('http://10.9.0.4:8000', 'state')).toBe('login_required');
    expect(await page.locator('[data-summary="eligible"]').textContent()).toBe('1');
    expect(await page.locator('[data-summary="total"]').textContent()).toBe('4');
    // A worker_id full of HTML is shown as text, and never runs.
    expect(
      await page
        .locator('article[data-node="http://10.9.0.4:8000"] [data-col="node"]')
        .textContent(),
    ).toContain('<img src=x onerror="window.__pwned=1">');
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
  });

  it('follows the registry and in-flight requests without a reload', async () => {
    await page.goto(gatewayUrl);
    await page.evaluate('window.__samePage = true');
    await expect.poll(() => page.locator('article[data-node]').count()).toBe(4);
    await pool.query(
      `update gemini_service_nodes set status = 'HEALTHY', cooldown_until = null, cooldown_reason = null,
         current_tasks = 7, last_heartbeat = now() where node_url = 'http://10.9.0.2:8000'`,
    );
    await expect
      .poll(() => cell('http://10.9.0.2:8000', 'state'), { timeout: 10_000 })
      .toBe('eligible');
    expect(await cell('http://10.9.0.2:8000', 'status')).toBe('HEALTHY');
    expect(await cell('http://10.9.0.2:8000', 'cooldown')).toBe('-');
    expect(await cell('http://10.9.0.2:8000', 'current-tasks')).toBe('7');
    expect(await page.locator('[data-summary="eligible"]').textContent()).toBe('2');

    // Keep the 10.9.0.2 node out of the way: the request must land on the holding worker.
    await pool.query(
      `update gemini_service_nodes set weight = 0 where node_url = 'http://10.9.0.2:8000'`,
    );
    await expect
      .poll(() => cell('http://10.9.0.2:8000', 'state'), { timeout: 10_000 })
      .toBe('drained');
    const answer = fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DASHBOARD_USER}` },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    await expect.poll(() => cell(workerUrl, 'in-flight'), { timeout: 10_000 }).toBe('1');
    releaseWorker?.();
    expect((await answer).status).toBe(200);
    await expect.poll(() => cell(workerUrl, 'in-flight'), { timeout: 10_000 }).toBe('0');
    expect(await page.evaluate('window.__samePage')).toBe(true);
  });
});

describe('in front of real workers', () => {
  let stack: GatewayStack;
  const run = Date.now().toString(36);
  // Every tier has it (free: fbb127bbb056c959, Pro and Plus: 56fdd199312815e2).
  const model = 'gemini-3-flash';

  beforeAll(async () => {
    stack = await startGatewayStack(3, {
      tiers: ['free', 'pro', 'plus'],
      workerEnv: { MODEL_DISCOVERY_INTERVAL_S: String(DISCOVERY_S) },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  /** The emulator's StreamGenerate records of one prompt, in order. */
  const sends = (prompt: string): UpstreamRecord[] =>
    stack.emulator.records().filter((r) => r.kind === 'generate' && r.prompt === prompt);

  async function ask(messages: OpenAI.ChatCompletionMessageParam[]) {
    const res = await stack.openai().chat.completions.create({ model, messages });
    const id = (res as { conversation_id?: string }).conversation_id;
    return { text: res.choices[0]?.message.content ?? '', id };
  }

  defineModelTests(() => stack, run);
  defineDiscoveryTests(() => stack, run);

  it('continues a regenerate and an edit from the turn the history matches, on its node', async () => {
    const u1 = { role: 'user' as const, content: `branch ${run} u1` };
    const u2 = { role: 'user' as const, content: `branch ${run} u2` };
    const a1 = { role: 'assistant' as const, content: (await ask([u1])).text };
    const second = await ask([u1, a1, u2]);
    const a2 = { role: 'assistant' as const, content: second.text };
    const held = (await (await fetch(`${stack.url}/conversations/${second.id}`)).json()) as {
      metadata: [string, string, string];
    };
    const u3 = { role: 'user' as const, content: `branch ${run} u3` };
    await ask([u1, a1, u2, a2, u3]);
    const [afterA1] = sends(u2.content);
    expect(afterA1?.cid).toMatch(/^c_/);
    expect(sends(u3.content)[0]?.rid).toBe(held.metadata[1]);

    // Regenerate the second answer, after a third turn: it continues after a1 again.
    await ask([u1, a1, u2]);
    const regenerated = sends(u2.content)[1];
    expect(regenerated).toMatchObject({ cid: afterA1?.cid, rid: afterA1?.rid });
    expect(regenerated?.rid).not.toBe(held.metadata[1]);
    // Edit the second question: the same.
    const edited = { role: 'user' as const, content: `branch ${run} u2 edited` };
    await ask([u1, a1, edited]);
    expect(sends(edited.content)[0]).toMatchObject({ cid: afterA1?.cid, rid: afterA1?.rid });
    // Every turn stayed on the account that holds the chat.
    const emails = [u1, u2, u3, edited].flatMap((m) => sends(m.content).map((r) => r.email));
    expect(new Set(emails).size).toBe(1);
  });

  it('continues an Anthropic and a Gemini regenerate from the turn its history matches, on its node', async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as Record<string, unknown>;
    };
    const uses = (marker: string) =>
      stack.emulator
        .records()
        .filter((r) => r.kind === 'generate' && (r.prompt ?? '').includes(marker));
    // Anthropic: [u1] -> a1, [u1, a1, u2] -> a2, then [u1, a1, u2] again continues after a1.
    const claude = (messages: unknown[]) =>
      post('/v1/messages', { model, max_tokens: 256, messages });
    const u1 = { role: 'user', content: `claude branch ${run} u1` };
    const a1 = { role: 'assistant', content: (await claude([u1]))['content'] };
    const u2 = { role: 'user', content: `claude branch ${run} u2` };
    await claude([u1, a1, u2]);
    await claude([u1, a1, u2]);
    const [first, again] = uses(u2.content);
    expect(first?.cid).toMatch(/^c_/);
    expect(again).toMatchObject({ cid: first?.cid, rid: first?.rid, email: first?.email });
    expect(uses(u1.content)[0]?.email).toBe(first?.email);
    // Gemini: the same through generateContent.
    const gemini = (contents: unknown[]) =>
      post(`/v1beta/models/${model}:generateContent`, { contents });
    const g1 = { role: 'user', parts: [{ text: `gemini branch ${run} g1` }] };
    const answer = (await gemini([g1]))['candidates'] as { content: unknown }[];
    const g2 = { role: 'user', parts: [{ text: `gemini branch ${run} g2` }] };
    await gemini([g1, answer[0]?.content, g2]);
    await gemini([g1, answer[0]?.content, g2]);
    const [one, two] = uses(`gemini branch ${run} g2`);
    expect(one?.cid).toMatch(/^c_/);
    expect(two).toMatchObject({ cid: one?.cid, rid: one?.rid, email: one?.email });
    expect(uses(`gemini branch ${run} g1`)[0]?.email).toBe(one?.email);
  });

  it('routes an upload and the chats naming its file to the node holding it', async () => {
    const form = new FormData();
    form.append('files', new Blob([`notes ${run}`], { type: 'text/plain' }), 'notes.txt');
    const upload = await fetch(`${stack.url}/upload`, { method: 'POST', body: form });
    expect(upload.status).toBe(200);
    const { files } = (await upload.json()) as { files: string[] };
    expect(files).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      const res = await stack.openai().chat.completions.create({
        model,
        messages: [{ role: 'user', content: `file ${run} ${i}` }],
        // @ts-expect-error: the seed's extension field
        files,
      });
      expect(res.choices[0]?.message.content).toContain('I received 1 file(s)');
    }
    const accounts = [0, 1, 2, 3].map((i) => sends(`file ${run} ${i}`)[0]?.email);
    expect(new Set(accounts).size).toBe(1);
    expect((await fetch(`${stack.url}/conversations/no-such-id`)).status).toBe(404);
  });

  it('routes through a whole minute without PostgreSQL, and shows how stale its table is', async () => {
    await stack.pg.stop();
    const startedAt = Date.now();
    const failures: string[] = [];
    let served = 0;
    let midway: Awaited<ReturnType<typeof stackHealth>> | null = null;
    let tableAgeS = 0;
    try {
      while (Date.now() - startedAt < 60_000) {
        const prompt = `pg away ${run} ${served + failures.length}`;
        await ask([{ role: 'user', content: prompt }]).then(
          () => (served += 1),
          (err: unknown) => failures.push(`${prompt}: ${String(err)}`),
        );
        if (midway === null && Date.now() - startedAt > 30_000) {
          midway = await stackHealth(stack.url);
          const metrics = await (await fetch(`${stack.url}/metrics`)).text();
          tableAgeS = Number(/^gateway_node_table_age_seconds (\S+)$/m.exec(metrics)?.[1]);
        }
        await sleep(500);
      }
    } finally {
      await stack.pg.start();
    }
    console.log(`gateway without PostgreSQL for 60 s: ${served} served, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(20);
    expect(midway).toMatchObject({
      status: 'registry_unreachable',
      eligible: stack.workers.length,
    });
    expect(midway?.registryAgeMs).toBeGreaterThan(29_000);
    expect(tableAgeS).toBeGreaterThan(29);
    await untilHealth(stack.url, (h) => h.status === 'ok' && (h.registryAgeMs ?? 1e9) < 2000);
  }, 120_000);

  it('answers a worker SIGKILLed mid-stream with a clear error, after exactly one send', async () => {
    stack.emulator.setOptions({ chunkDelayMs: 1000 });
    const prompt = `killed ${run}`;
    try {
      const stream = await stack.openai().chat.completions.create({
        model,
        stream: true,
        messages: [{ role: 'user', content: prompt }],
      });
      const chunks = stream[Symbol.asyncIterator]();
      await chunks.next();
      const email = sends(prompt)[0]?.email;
      const victim = stack.workers.find((w) => w.email === email);
      expect(victim).toBeDefined();
      await victim?.worker.stop('SIGKILL');
      let error: unknown = null;
      try {
        while (!(await chunks.next()).done) {
          // drain until the error event
        }
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_outcome_unknown');
      // Time for anything that would send it again (the gateway, the survivor) to have done so.
      await sleep(3000);
      expect(sends(prompt)).toHaveLength(1);
    } finally {
      stack.emulator.setOptions({ chunkDelayMs: 10 });
    }
  }, 60_000);
});
