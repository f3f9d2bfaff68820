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

function discoveryFor(client: GeminiClient, tally = createDriftTally()): ModelDiscovery {
  return new ModelDiscovery({
    fetchStatus: (signal) => client.rpc('otAQ7b', [], signal),
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
