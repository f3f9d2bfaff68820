/**
 * What the cases of e2e/worker-input.test.ts share: the worker they send to (and its key), raw
 * requests whose status and error body they check, and OpenAI's error shape.
 */
import { expect } from 'vitest';
import type { Emulator } from '../../src/emulator/index.ts';
import type { TestWorker } from '../support/worker.ts';

/** The suite's API key (API_KEYS also holds another one). */
export const KEY = 'sk-test-key-0123456789';

/** The suite's worker, its account and the emulator behind it. */
export interface InputTarget {
  readonly emulator: Emulator;
  readonly worker: TestWorker;
  readonly email: string;
}

/** The header of a valid key. */
export const auth = { authorization: `Bearer ${KEY}` };

/** A request with the key; its status and JSON body (empty when not JSON). */
export async function send(t: InputTarget, path: string, init: RequestInit = {}) {
  const res = await fetch(`${t.worker.url}${path}`, {
    ...init,
    headers: { ...auth, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let body: {
    error?: { message: string; type: string; param: string | null; code: string | null };
  } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // Non-JSON bodies fail the shape assertions below.
  }
  return { status: res.status, body };
}

/** A chat completion of `body` (a string is sent as it is). */
export const chat = (
  t: InputTarget,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  send(t, '/v1/chat/completions', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The body's error has exactly OpenAI's four fields. */
export function expectOpenAIError(r: { body: { error?: object } }) {
  expect(Object.keys(r.body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
}
