/**
 * ModelDiscovery through a real GeminiClient against the emulator over HTTPS: a Pro account's
 * list, a withdrawn model gone at the next ask, a 1060 status and a reply in an unknown shape
 * that keep the last good list and count drift, and the generation parser's drift named in the
 * error of a reply nobody can read.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriftTally, ModelDiscovery } from '../../../src/discovery/index.ts';
import {
  GeminiClient,
  GeminiError,
  createHttpClient,
  type Cookie,
  type CookieSource,
} from '../../../src/gemini/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { startTestEmulator, type TestEmulator } from '../emulator/support.ts';

let t: TestEmulator;
const logger = createLogger({ silent: true });

beforeAll(async () => {
  t = await startTestEmulator();
});
afterAll(async () => {
  await t?.close();
});

function clientFor(
  email: string,
  tally = createDriftTally(),
  requestForm?: 69 | 102,
): GeminiClient {
  const cookies: Cookie[] = t.emulator.createAccount(email).cookies;
  const source: CookieSource = {
    getCookies: () => Promise.resolve(cookies),
    invalidate: () => undefined,
    refresh: () => Promise.resolve(),
    absorb: () => Promise.resolve(),
  };
  return new GeminiClient({
    http: createHttpClient({
      hostResolverRules: t.emulator.hostResolverRules(),
      ca: fs.readFileSync(t.emulator.caCertPath, 'utf8'),
    }),
    cookies: source,
    logger,
    stallTimeoutMs: 10_000,
    onDrift: (kind) => tally.record(kind),
    ...(requestForm ? { requestForm } : {}),
  });
}

function discoveryFor(
  client: GeminiClient,
  tally = createDriftTally(),
  fetchStatus = (signal: AbortSignal) => client.rpc('otAQ7b', [], signal),
): ModelDiscovery {
  return new ModelDiscovery({
    fetchStatus,
    pageModels: () => client.pageModels(),
    intervalMs: 0,
    timeoutMs: 10_000,
    onDrift: (kind) => tally.record(kind),
    logger,
  });
}

describe('ModelDiscovery against the emulator', () => {
  it("serves a Pro account's models, and drops a withdrawn one at the next ask", async () => {
    const email = 'disc+pro@example.com';
    const discovery = discoveryFor(clientFor(email));
    expect(discovery.report().source).toBe('table');
    await discovery.refresh();
    expect(discovery.report()).toMatchObject({ source: 'discovered', tier: 'pro', tail: 2 });
    expect(discovery.list().map((m) => m.name)).toContain('gemini-3-flash-thinking');
    expect(discovery.find('gemini-2.5-flash')).toBeUndefined();
    t.emulator.withdrawModel('e051ce1aa80aa576', email);
    await discovery.refresh();
    expect(discovery.find('gemini-3-flash-thinking')).toBeUndefined();
    expect(discovery.find('gemini-3-pro')?.header).toContain('"e6fa609c3fa255c0"');
    t.emulator.restoreModels();
  });

  it('keeps the last good list on 1060 and on an unknown shape, counting the drift', async () => {
    const email = 'disc+free@example.com';
    const tally = createDriftTally();
    const discovery = discoveryFor(clientFor(email, tally), tally);
    await discovery.refresh();
    const good = discovery.list().map((m) => m.name);
    expect(good).toEqual(['gemini-default', 'gemini-3-flash', 'gemini-3-flash-thinking']);
    t.emulator.injectFault(email, 'status_shape');
    await discovery.refresh();
    expect(tally.counts()).toEqual({ account_status_shape: 1 });
    expect(discovery.list().map((m) => m.name)).toEqual(good);
    t.emulator.setPlan(email, { statusCode: 1060 });
    await discovery.refresh();
    expect(discovery.report()).toMatchObject({ statusCode: 1060, source: 'discovered' });
    expect(discovery.report().statusMeaning).toMatch(/region/);
    expect(discovery.list().map((m) => m.name)).toEqual(good);
  });

  it('names the drift in the error of a StreamGenerate reply in an unknown shape', async () => {
    const email = 'drift-gen@example.com';
    const tally = createDriftTally();
    const client = clientFor(email, tally);
    const discovery = discoveryFor(client, tally);
    await discovery.refresh();
    t.emulator.injectFault(email, 'unknown_shape');
    const model = discovery.find('gemini-3-flash');
    expect(model).toBeDefined();
    let error: unknown = null;
    try {
      for await (const event of client.generate({ prompt: 'hi', model: model! })) {
        void event;
      }
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GeminiError);
    expect((error as GeminiError).message).toMatch(/protocol drift: candidate_shape/);
    expect(tally.counts()).toMatchObject({ candidate_shape: 1, envelope_unknown: 1 });
  });

  it('answers the 102-slot request form like the 69-slot one, with the discovered model', async () => {
    const email = 'wide+pro@example.com';
    const client = clientFor(email, createDriftTally(), 102);
    const discovery = discoveryFor(client);
    await discovery.refresh();
    let text = '';
    for await (const event of client.generate({
      prompt: 'wide form',
      model: discovery.find('gemini-3-pro')!,
    })) {
      text += event.type === 'text' ? event.delta : '';
    }
    expect(text).toContain('wide form');
    const sent = t.emulator.records().filter((r) => r.kind === 'generate' && r.email === email);
    expect(sent.map((r) => [r.model, r.status])).toEqual([['e6fa609c3fa255c0', 200]]);
  });
});

describe("the /app page's model lists", () => {
  it("lists each tier's ids by kind, and drops a withdrawn one at the next page load", async () => {
    const free = clientFor('page+free@example.com');
    await free.init();
    expect(free.pageModels()).toEqual({
      fast: ['fbb127bbb056c959'],
      thinking: ['5bf011840784117a'],
      dropped: 0,
    });
    const plus = clientFor('page+plus@example.com');
    await plus.init();
    expect(plus.pageModels()).toMatchObject({
      fast: ['e6fa609c3fa255c0', '56fdd199312815e2', '8c46e95b1a07cecc'],
      thinking: ['e051ce1aa80aa576'],
    });
    t.emulator.withdrawModel('8c46e95b1a07cecc', 'page+plus@example.com');
    await plus.init();
    expect(plus.pageModels()?.fast).not.toContain('8c46e95b1a07cecc');
    t.emulator.restoreModels();
  });

  it('counts lists it cannot read as drift and keeps the last good ones', async () => {
    const email = 'page-drift@example.com';
    const tally = createDriftTally();
    const client = clientFor(email, tally);
    await client.init();
    const good = client.pageModels();
    expect(good?.fast.length).toBeGreaterThan(0);
    expect(tally.counts()).toEqual({});
    t.emulator.injectFault(email, 'page_models_shape');
    await client.init();
    expect(tally.counts()).toEqual({ page_models_shape: 1 });
    expect(client.pageModels()).toEqual(good);
  });

  it("discovery takes otAQ7b's set with the page's thinking flags", async () => {
    const discovery = discoveryFor(clientFor('merge+plus@example.com'));
    await discovery.refresh();
    const models = discovery.report().models.map((m) => [m.id, m.thinking]);
    expect(models).toEqual([
      [null, false],
      ['e6fa609c3fa255c0', false],
      ['56fdd199312815e2', false],
      ['e051ce1aa80aa576', true],
      ['8c46e95b1a07cecc', false],
    ]);
  });

  it('falls back to the page when otAQ7b fails before any good answer', async () => {
    const email = 'fallback+pro@example.com';
    const client = clientFor(email);
    const failing = async () => {
      await client.init();
      throw new GeminiError('transient', 'batchexecute: HTTP 500', { httpStatus: 500 });
    };
    t.emulator.withdrawModel('e6fa609c3fa255c0', email);
    const discovery = discoveryFor(client, createDriftTally(), failing);
    await discovery.refresh();
    t.emulator.restoreModels();
    expect(discovery.report()).toMatchObject({ source: 'page', lastError: /HTTP 500/ });
    // The table's free-tier ids (tail 1 works on every tier) under the names the page lists.
    expect(discovery.report().models.map((m) => [m.name, m.id, m.thinking])).toEqual([
      ['gemini-default', null, false],
      ['gemini-3-flash', 'fbb127bbb056c959', false],
      ['gemini-3-flash-thinking', '5bf011840784117a', true],
    ]);
  });
});
