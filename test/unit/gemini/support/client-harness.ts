/**
 * The GeminiClient test bed, one per test: a fresh FakeGoogle serving Gemini, an HTTP client
 * pinned to it, a cookie source that counts its calls, and a debug logger whose output
 * logText() reads back. A test file calls useClientHarness() once; the exported bindings are live and are
 * replaced before each test, so tests read them as plain variables.
 */
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { GeminiClient } from '../../../../src/gemini/client.ts';
import { GeminiError } from '../../../../src/gemini/errors.ts';
import { createHttpClient, type HttpClient } from '../../../../src/gemini/http.ts';
import { findModel } from '../../../../src/gemini/models.ts';
import type { GenerateEvent, GenerateRequest, ModelSpec } from '../../../../src/gemini/types.ts';
import { capturedLogger, type CapturedLogger } from '../../support/captured-logger.ts';
import { startFakeGoogle, type FakeGoogle } from './fake-google.ts';
import { accountCookies, FakeCookieSource, GOOD_PSID, installGemini } from './fake-gemini.ts';
import { createTestCertificates, type TestCertificates } from './test-ca.ts';

/** The model most tests ask for (it sends a model header; the default model does not). */
export const FLASH = findModel('gemini-2.5-flash') as ModelSpec;

let certs: TestCertificates;
let http: HttpClient;
let clients: GeminiClient[];
let log: CapturedLogger;
/** This test's fake Google, with Gemini installed. */
export let fake: FakeGoogle;
/** This test's cookie source, signed in with GOOD_PSID until a test says otherwise. */
export let cookies: FakeCookieSource;

/** Registers the hooks that give each test of the calling file a fresh test bed. */
export function useClientHarness(): void {
  beforeAll(async () => {
    certs = await createTestCertificates();
  });

  beforeEach(async () => {
    fake = await startFakeGoogle(certs);
    installGemini(fake);
    http = createHttpClient({ hostResolverRules: fake.rules, ca: certs.caCert });
    cookies = new FakeCookieSource(accountCookies(GOOD_PSID));
    log = capturedLogger({ debug: true });
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await http.close();
    await fake.close();
  });
}

/** A client on this test's bed, closed after the test. */
export function makeClient(stallTimeoutMs = 5000): GeminiClient {
  const client = new GeminiClient({ http, cookies, logger: log.logger, stallTimeoutMs });
  clients.push(client);
  return client;
}

/** A FLASH request saying hello, with the given fields on top. */
export const request = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  prompt: 'Say hello',
  model: FLASH,
  ...extra,
});

/** Every event a generator yields, and the error that ended it (null if none). */
export async function collect(
  gen: AsyncIterable<GenerateEvent>,
): Promise<{ events: GenerateEvent[]; error: unknown }> {
  const events: GenerateEvent[] = [];
  try {
    for await (const e of gen) {
      events.push(e);
    }
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

/** Everything this test's clients logged so far. */
export const logText = (): string => log.text();

/** Asserts that `error` is a GeminiError and returns it as one. */
export function geminiError(error: unknown): GeminiError {
  expect(error).toBeInstanceOf(GeminiError);
  return error as GeminiError;
}

/** The text deltas of `events`, joined. */
export const text = (events: GenerateEvent[]) =>
  events.map((e) => (e.type === 'text' ? e.delta : '')).join('');
