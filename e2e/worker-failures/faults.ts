/**
 * What the cases of e2e/worker-failures.test.ts share: a worker of its own account with a fault
 * injected, a chat completion posted to it, and OpenAI's error shape.
 */
import { expect } from 'vitest';
import { SHOULD_RETRY_HEADER, UPSTREAM_SENT_HEADER } from '../../src/errors.ts';
import type { Emulator, Fault, UpstreamRecord } from '../../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from '../support/worker.ts';

/** The suite's emulator, and a worker of its own account with `fault` injected `times`. */
export interface FaultSuite {
  emulator(): Emulator;
  workerWithFault(
    fault: Fault | null,
    times?: number,
    env?: Record<string, string>,
  ): Promise<{ worker: TestWorker; email: string; upstream: () => UpstreamRecord[] }>;
}

/** The FaultSuite over `emulator()`; each worker joins `workers`, which the suite closes. */
export function faultSuite(emulator: () => Emulator, workers: TestWorker[]): FaultSuite {
  return { emulator, workerWithFault };
  async function workerWithFault(fault: Fault | null, times = 1, env: Record<string, string> = {}) {
    const email = uniqueEmail(fault ?? 'ok');
    const worker = await startTestWorker({
      emulator: emulator(),
      email,
      env: { GEMINI_STALL_TIMEOUT_MS: '1500', ...env },
    });
    workers.push(worker);
    if (fault) {
      emulator().injectFault(email, fault, { times });
    }
    const upstream = () =>
      emulator()
        .records()
        .filter((r) => r.kind === 'generate' && r.email === email);
    return { worker, email, upstream };
  }
}

/** POSTs one chat completion; the status, the headers that matter and the body. */
export async function post(
  worker: TestWorker,
  content: string | object[],
  extra: Record<string, unknown> = {},
) {
  const res = await fetch(`${worker.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content }],
      ...extra,
    }),
  });
  const body = (await res.json()) as {
    error?: { message: string; type: string; param: string | null; code: string | null };
    choices?: { message: { content: string }; finish_reason: string }[];
  };
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    sent: res.headers.get(UPSTREAM_SENT_HEADER),
    shouldRetry: res.headers.get(SHOULD_RETRY_HEADER),
    body,
  };
}

/** The body's error has exactly OpenAI's four fields. */
export function expectErrorShape(body: { error?: object }) {
  expect(Object.keys(body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
}
