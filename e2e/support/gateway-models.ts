/**
 * The model discovery and drift cases of e2e/gateway.test.ts, run against its stack of a free, a
 * Pro and a Plus worker (kept here so that file stays readable). They run before the cases that
 * stop PostgreSQL or kill a worker.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { expect, it } from 'vitest';
import type { GatewayStack } from './gateway-stack.ts';

/** The workers' MODEL_DISCOVERY_INTERVAL_S in this stack. */
export const DISCOVERY_S = 3;

const FREE = ['gemini-default', 'gemini-3-flash', 'gemini-3-flash-thinking'];
const PRO = ['gemini-default', 'gemini-3.0-pro', 'gemini-3-flash', 'gemini-3-flash-thinking'];
const PLUS = [...PRO, 'gemini-3-flash-lite'];
const LITE_ID = '8c46e95b1a07cecc';

interface WorkerHealth {
  account_models: { source: string; tier: string | null; tail: number | null };
  protocol_drift: { total: number; by_kind: Record<string, number> };
}
interface NodesReport {
  nodes: {
    account: string;
    tier: string | null;
    models: string[];
    protocolDrift: Record<string, number>;
  }[];
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  return (await (await fetch(url, init)).json()) as T;
}

const modelIds = async (url: string): Promise<string[]> =>
  (await json<{ data: { id: string }[] }>(`${url}/v1/models`)).data.map((m) => m.id);

/** Polls `read` until `ok` holds; returns the last value. */
async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) {
      return value;
    }
    await sleep(100);
  }
}

/** Defines the cases; `stack()` is the suite's running stack. */
export function defineModelTests(stack: () => GatewayStack, run: string): void {
  const worker = (tier: string) => {
    const found = stack().workers.find((w) => w.tier === tier);
    if (!found) {
      throw new Error(`no ${tier} worker in the stack`);
    }
    return found;
  };
  const health = (tier: string) => json<WorkerHealth>(`${worker(tier).worker.url}/health`);
  const generates = (prompt: string) =>
    stack()
      .emulator.records()
      .filter((r) => r.kind === 'generate' && r.prompt === prompt);

  it('three workers with three tiers show three model lists; the gateway shows their union', async () => {
    for (const tier of ['free', 'pro', 'plus']) {
      const h = await until(
        () => health(tier),
        (v) => v.account_models.source === 'discovered',
      );
      expect(h.account_models.tier).toBe(tier);
    }
    expect(await modelIds(worker('free').worker.url)).toEqual(FREE);
    expect(await modelIds(worker('pro').worker.url)).toEqual(PRO);
    expect(await modelIds(worker('plus').worker.url)).toEqual(PLUS);
    const union = [...new Set([...FREE, ...PLUS])].sort();
    expect(
      await until(
        () => modelIds(stack().url),
        (ids) => ids.length === union.length,
      ),
    ).toEqual(union);
    const report = await json<NodesReport>(`${stack().url}/api/nodes`);
    expect(report.nodes.map((n) => n.tier).sort()).toEqual(['free', 'plus', 'pro']);
  });

  it('routes a paid model only to the paid nodes, with their id and tail; none has it: 404', async () => {
    const openai = stack().openai();
    for (let i = 0; i < 4; i++) {
      const prompt = `paid ${run} ${i}`;
      await openai.chat.completions.create({
        model: 'gemini-3-pro',
        messages: [{ role: 'user', content: prompt }],
      });
      const [sent] = generates(prompt);
      expect([worker('pro').email, worker('plus').email]).toContain(sent?.email);
      expect(sent?.model).toBe('e6fa609c3fa255c0');
    }
    const lite = `lite ${run}`;
    await openai.chat.completions.create({
      model: 'gemini-3-flash-lite',
      messages: [{ role: 'user', content: lite }],
    });
    expect(generates(lite)[0]?.email).toBe(worker('plus').email);
    const missing = await openai.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'x' }] })
      .catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    // The free worker itself refuses the paid model before anything is queued.
    const direct = await fetch(`${worker('free').worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-3-pro', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(direct.status).toBe(404);
    expect(((await direct.json()) as { error: { code: string } }).error.code).toBe(
      'model_not_found',
    );
  });

  it('a withdrawn model disappears within one discovery period', async () => {
    const plus = worker('plus').worker.url;
    expect(await modelIds(plus)).toContain('gemini-3-flash-lite');
    const startedAt = Date.now();
    stack().emulator.withdrawModel(LITE_ID);
    try {
      const ids = await until(
        () => modelIds(plus),
        (v) => !v.includes('gemini-3-flash-lite'),
      );
      const tookMs = Date.now() - startedAt;
      expect(ids).toEqual(PRO);
      // One period, plus the ask itself on a loaded machine.
      expect(tookMs).toBeLessThan(DISCOVERY_S * 1000 + 1500);
      const gateway = await until(
        () => modelIds(stack().url),
        (v) => !v.includes('gemini-3-flash-lite'),
      );
      expect(gateway).not.toContain('gemini-3-flash-lite');
      const refused = await stack()
        .openai()
        .chat.completions.create({
          model: 'gemini-3-flash-lite',
          messages: [{ role: 'user', content: 'x' }],
        })
        .catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      stack().emulator.restoreModels();
    }
    expect(
      await until(
        () => modelIds(plus),
        (v) => v.includes('gemini-3-flash-lite'),
      ),
    ).toEqual(PLUS);
  });

  it('counts protocol drift by kind, names it in the error, and shows it in /health and the registry', async () => {
    const free = worker('free');
    const before = (await health('free')).protocol_drift.total;
    stack().emulator.injectFault(free.email, 'unknown_shape');
    const res = await fetch(`${free.worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-3-flash',
        messages: [{ role: 'user', content: `drift ${run}` }],
      }),
    });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /protocol drift: candidate_shape/,
    );
    const h = await health('free');
    expect(h.protocol_drift.total).toBe(before + 2);
    expect(h.protocol_drift.by_kind).toMatchObject({ candidate_shape: 1, envelope_unknown: 1 });
    const metrics = await (await fetch(`${free.worker.url}/metrics`)).text();
    expect(metrics).toMatch(/^gk_protocol_drift_total\{kind="candidate_shape"[^}]*\} 1$/m);
    // An otAQ7b reply in an unknown shape: counted at the next ask, and the list stays.
    const pro = worker('pro');
    stack().emulator.injectFault(pro.email, 'status_shape');
    const proHealth = await until(
      () => health('pro'),
      (v) => (v.protocol_drift.by_kind['account_status_shape'] ?? 0) >= 1,
    );
    expect(proHealth.protocol_drift.by_kind['account_status_shape']).toBe(1);
    expect(await modelIds(pro.worker.url)).toEqual(PRO);
    const report = await until(
      () => json<NodesReport>(`${stack().url}/api/nodes`),
      (r) => r.nodes.some((n) => (n.protocolDrift['candidate_shape'] ?? 0) >= 1),
    );
    const freeNode = report.nodes.find((n) => n.tier === 'free');
    expect(freeNode?.protocolDrift).toMatchObject({ candidate_shape: 1 });
  });
}
