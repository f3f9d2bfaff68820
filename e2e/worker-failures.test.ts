/**
 * Every failure class of DESIGN.md's table, end to end: the emulator injects the upstream fault,
 * the official SDK sees the status, shape, Retry-After and error class, and the emulator's record
 * shows what went upstream: a prompt goes up once, twice only after a proven rejection, never
 * three times; uploads stay in the account's line.
 */
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SHOULD_RETRY_HEADER, UPSTREAM_SENT_HEADER } from '../src/errors.ts';
import { Emulator, type Fault } from '../src/emulator/index.ts';
import { eventually } from './support/person.ts';
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

async function post(
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

  it('1013 twice: two sends, never three, a clear 502 saying not taken, then a short cooldown', async () => {
    const { worker, upstream } = await workerWithFault('transient', 3);
    const res = await post(worker, 'transient twice');
    expect(res.status).toBe(502);
    expectErrorShape(res.body);
    expect(res.body.error?.code).toBe('upstream_unavailable');
    expect(res.sent).toBe('false');
    expect(upstream()).toHaveLength(2);
    const next = await post(worker, 'after transient');
    expect(next.status).toBe(429);
    expect(Number(next.retryAfter)).toBeGreaterThan(0);
    expect(Number(next.retryAfter)).toBeLessThanOrEqual(60);
    expect(upstream()).toHaveLength(2);
  });

  it('HTTP 500 before any body, every time: at most two sends, then 502 saying not taken', async () => {
    const { worker, upstream } = await workerWithFault('http_500', Infinity);
    const res = await post(worker, 'always 500');
    expect(res.status).toBe(502);
    expect(res.sent).toBe('false');
    expect(res.shouldRetry).toBeNull();
    expect(upstream()).toHaveLength(2);
  });

  it('a connection reset before any response is sent once more and answered', async () => {
    const { worker, upstream } = await workerWithFault('reset', 1);
    const res = await post(worker, 'reset once');
    expect(res.status).toBe(200);
    expect(res.sent).toBe('true');
    expect(upstream().filter((r) => r.prompt === 'reset once')).toHaveLength(2);
  });

  it('a stall after the first text ends the stream with an error event, sent once', async () => {
    const { worker, upstream } = await workerWithFault('stall', 1, { SSE_KEEPALIVE_MS: '200' });
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
    const failure = await consume().then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_outcome_unknown');
    expect(text.length).toBeGreaterThan(0);
    expect(upstream()).toHaveLength(1);
  });

  it('a silent committed stream sends keep-alive comments, then the error event and [DONE]', async () => {
    const { worker, upstream } = await workerWithFault('stall', 1, { SSE_KEEPALIVE_MS: '200' });
    const res = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        stream: true,
        messages: [{ role: 'user', content: 'stall with comments' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get(UPSTREAM_SENT_HEADER)).toBe('true');
    const raw = await res.text();
    const firstData = raw.indexOf('data: ');
    const comment = raw.indexOf(': keep-alive\n\n');
    const error = raw.indexOf('data: {"error"');
    // The 1500 ms stall leaves room for several 200 ms comments between text and error.
    expect(comment).toBeGreaterThan(firstData);
    expect(error).toBeGreaterThan(comment);
    expect(raw.split(': keep-alive').length - 1).toBeGreaterThanOrEqual(3);
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(upstream()).toHaveLength(1);
  });

  it.each(['stall', 'drop', 'error_mid_answer'] as const)(
    '%s after some text, not streamed: the text so far with finish_reason length, sent once',
    async (fault) => {
      const { worker, upstream } = await workerWithFault(fault);
      const res = await post(worker, `partial ${fault}`);
      expect(res.status).toBe(200);
      expect(res.sent).toBe('true');
      expect(res.body.choices?.[0]?.finish_reason).toBe('length');
      expect(res.body.choices?.[0]?.message.content.length).toBeGreaterThan(0);
      expect(upstream()).toHaveLength(1);
    },
  );

  it.each(['stall_before_answer', 'drop_before_answer'] as const)(
    '%s (after 200 OK, no text): 502 upstream_outcome_unknown, x-should-retry false, sent once',
    async (fault) => {
      const { worker, upstream } = await workerWithFault(fault);
      const res = await post(worker, `unknown ${fault}`);
      expect(res.status).toBe(502);
      expectErrorShape(res.body);
      expect(res.body.error?.code).toBe('upstream_outcome_unknown');
      expect(res.body.error?.message).toMatch(/may have reached Gemini/);
      expect(res.sent).toBe('true');
      expect(res.shouldRetry).toBe('false');
      expect(upstream()).toHaveLength(1);
    },
  );

  it('the SDK with its default retries never sends a cut prompt twice', async () => {
    const { worker, upstream } = await workerWithFault('drop_before_answer');
    const sdk = new OpenAI({ apiKey: 'unused', baseURL: `${worker.url}/v1`, maxRetries: 2 });
    await expect(
      sdk.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'sdk retries' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    expect(upstream()).toHaveLength(1);
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    expect(metrics).toMatch(/gk_upstream_sends_total\{[^}]*outcome="cut_after_accept"[^}]*\} 1/);
  });
});

describe('limits and the account line', () => {
  const PNG =
    'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
  const uploads = () => emulator.records().filter((r) => r.kind === 'upload');
  const withImage = (text: string) => [
    { type: 'text', text },
    { type: 'image_url', image_url: { url: PNG } },
  ];

  it('a prompt over MAX_PROMPT_CHARS gets 413 before it is queued', async () => {
    const { worker, upstream } = await workerWithFault(null, 1, { MAX_PROMPT_CHARS: '100' });
    const res = await post(worker, 'x'.repeat(101));
    expect(res.status).toBe(413);
    expectErrorShape(res.body);
    expect(res.body.error?.code).toBe('prompt_too_long');
    expect(res.sent).toBe('false');
    expect(upstream()).toHaveLength(0);
    expect((await post(worker, 'x'.repeat(100))).status).toBe(200);
  });

  it('an image during a cooldown: 429 with Retry-After, and nothing reaches content-push', async () => {
    const { worker } = await workerWithFault('usage_limit');
    expect((await post(worker, 'cools it down')).status).toBe(429);
    // content-push gets no google.com cookies, so its records name no account: count them all.
    const before = uploads().length;
    const res = await post(worker, withImage('look at this'));
    expect(res.status).toBe(429);
    expect(Number(res.retryAfter)).toBeGreaterThan(0);
    expect(res.sent).toBe('false');
    expect(uploads()).toHaveLength(before);
  });

  it('an upload waits for a long generation on the same account: no overlap in time', async () => {
    const { worker, email } = await workerWithFault(null);
    const before = uploads().length;
    emulator.setOptions({ chunkDelayMs: 150 });
    try {
      const long = post(worker, 'a long answer first');
      await eventually(
        async () => emulator.records().some((r) => r.kind === 'generate' && r.email === email),
        10_000,
        20,
      );
      const image = await post(worker, withImage('then an image'));
      expect(image.status).toBe(200);
      expect((await long).status).toBe(200);
    } finally {
      emulator.setOptions({ chunkDelayMs: 5 });
    }
    const records = emulator.records().filter((r) => r.email === email);
    const first = records.find((r) => r.kind === 'generate' && r.prompt === 'a long answer first');
    expect(uploads()).toHaveLength(before + 1);
    const upload = uploads().at(-1);
    const second = records.find((r) => r.kind === 'generate' && r.prompt === 'then an image');
    expect(upload?.startedAt).toBeGreaterThanOrEqual(first!.endedAt!);
    expect(second?.fileIds).toHaveLength(1);
    expect(second!.startedAt).toBeGreaterThanOrEqual(upload!.endedAt!);
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

  it('1096 after a complete answer is ignored, sent once', async () => {
    const { worker, upstream } = await workerWithFault('error_after_answer');
    const res = await post(worker, 'late error');
    expect(res.status).toBe(200);
    expect(res.sent).toBe('true');
    expect(upstream()).toHaveLength(1);
  });
});
