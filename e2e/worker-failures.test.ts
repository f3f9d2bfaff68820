/**
 * Every failure class of DESIGN.md's table, end to end: the emulator injects the upstream fault,
 * the official SDK sees the status, shape, Retry-After and error class, and the emulator's record
 * shows what went upstream (never a prompt twice once text reached the client).
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type Fault } from '../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';

let emulator: Emulator;
const workers: TestWorker[] = [];

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});
afterAll(async () => {
  await emulator?.close();
});

async function workerWithFault(fault: Fault | null, times = 1, env: Record<string, string> = {}) {
  const email = uniqueEmail(fault ?? 'ok');
  const worker = await startTestWorker({
    emulator,
    email,
    env: { GEMINI_STALL_TIMEOUT_MS: '1500', ...env },
  });
  workers.push(worker);
  if (fault) {
    emulator.injectFault(email, fault, { times });
  }
  const upstream = () =>
    emulator.records().filter((r) => r.kind === 'generate' && r.email === email);
  return { worker, email, upstream };
}

async function post(worker: TestWorker, content: string, extra: Record<string, unknown> = {}) {
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
  };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

function expectErrorShape(body: { error?: object }) {
  expect(Object.keys(body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
}

describe('quota and blocks cool the account down', () => {
  it.each([
    ['usage_limit', 'usage_limit'],
    ['ip_blocked', 'ip_blocked'],
    ['sorry', 'ip_blocked'],
  ] as const)(
    '%s: 429 with Retry-After, then 429 at once without touching Google',
    async (fault, code) => {
      const { worker, upstream } = await workerWithFault(fault);
      const first = await post(worker, `quota ${fault}`);
      expect(first.status).toBe(429);
      expectErrorShape(first.body);
      expect(first.body.error?.code).toBe(code);
      expect(Number(first.retryAfter)).toBeGreaterThan(3000);
      const before = upstream().length;
      const second = await post(worker, 'during the cooldown');
      expect(second.status).toBe(429);
      expect(Number(second.retryAfter)).toBeGreaterThan(3000);
      expect(upstream().length).toBe(before);
      await expect(
        worker.openai().chat.completions.create({
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'sdk' }],
        }),
      ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    },
  );
});

describe('auth', () => {
  it('heals a single 401 by re-reading cookies and retrying once', async () => {
    const { worker, upstream } = await workerWithFault('http_401', 1);
    const res = await post(worker, 'auth heals');
    expect(res.status).toBe(200);
    expect(upstream().filter((r) => r.prompt === 'auth heals')).toHaveLength(2);
  });

  it('answers 503 login_required with Retry-After when the session stays dead', async () => {
    const { worker } = await workerWithFault('http_401', Infinity);
    const res = await post(worker, 'auth dead');
    expect(res.status).toBe(503);
    expectErrorShape(res.body);
    expect(res.body.error?.code).toBe('login_required');
    expect(res.body.error?.message).toMatch(/sign in/i);
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
    await expect(
      worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
  });
});

describe('transient failures', () => {
  it.each(['transient', 'http_500'] as const)(
    '%s once: retried after a short backoff, answered',
    async (fault) => {
      const { worker, upstream } = await workerWithFault(fault, 1);
      const res = await post(worker, `retry ${fault}`);
      expect(res.status).toBe(200);
      expect(upstream().filter((r) => r.prompt === `retry ${fault}`)).toHaveLength(2);
    },
  );

  it('repeated: 502, then a short cooldown', async () => {
    const { worker, upstream } = await workerWithFault('transient', 2);
    const res = await post(worker, 'transient twice');
    expect(res.status).toBe(502);
    expectErrorShape(res.body);
    expect(upstream()).toHaveLength(2);
    const next = await post(worker, 'after transient');
    expect(next.status).toBe(429);
    expect(Number(next.retryAfter)).toBeLessThanOrEqual(60);
    expect(upstream()).toHaveLength(2);
  });

  it('a stall after the first text ends the stream with an error event, sent once', async () => {
    const { worker, upstream } = await workerWithFault('stall');
    const stream = await worker.openai().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'stall me' }],
      stream: true,
    });
    let text = '';
    const consume = async () => {
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
      }
    };
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect(text.length).toBeGreaterThan(0);
    expect(upstream()).toHaveLength(1);
  });

  it('a dropped connection before the answer completes is a 502, sent once', async () => {
    const { worker, upstream } = await workerWithFault('drop');
    const res = await post(worker, 'drop me');
    expect(res.status).toBe(502);
    expectErrorShape(res.body);
    expect(upstream()).toHaveLength(1);
  });
});

describe('model and follow-up errors', () => {
  it('1052: 400 naming the model, no cooldown', async () => {
    const { worker } = await workerWithFault('model_invalid');
    const res = await post(worker, 'bad model');
    expect(res.status).toBe(400);
    expect(res.body.error?.param).toBe('model');
    expect(res.body.error?.message).toContain('gemini-2.5-flash');
    expect((await post(worker, 'fine afterwards')).status).toBe(200);
  });

  it('1097: the follow-up is retried once as a new chat carrying the history', async () => {
    const { worker, email, upstream } = await workerWithFault(null);
    const first = await post(worker, 'follow-up base');
    const id = (first.body as { conversation_id?: string }).conversation_id;
    emulator.injectFault(email, 'followup_rejected');
    const second = await post(worker, 'follow-up rejected once', { conversation_id: id });
    expect(second.status).toBe(200);
    const tries = upstream().filter((r) => r.prompt?.includes('follow-up rejected once'));
    expect(tries).toHaveLength(2);
    expect(tries[0]?.cid).toMatch(/^c_/);
    expect(tries[1]?.cid ?? null).toBeNull();
    expect(tries[1]?.prompt).toContain('follow-up base');
  });

  it('1096 after a complete answer is ignored', async () => {
    const { worker, upstream } = await workerWithFault('error_after_answer');
    const res = await post(worker, 'late error');
    expect(res.status).toBe(200);
    expect(upstream()).toHaveLength(1);
  });
});
