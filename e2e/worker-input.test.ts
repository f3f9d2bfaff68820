/**
 * Bad input gets a clear 4xx in OpenAI's shape, reaches nothing upstream, and never crashes the
 * worker; the API key guards the API and secrets stay out of logs and answers. History fidelity:
 * a replay re-uploads earlier turns' images, and a prompt too long to send inline goes up as
 * message.txt, proven from the emulator's records of what was pushed and sent.
 */
import { createHash } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLS_BEGIN } from '../src/api/core/index.ts';
import { PROMPT_FILE_NOTE } from '../src/api/prompt-file.ts';
import { Emulator, type UpstreamRecord } from '../src/emulator/index.ts';
import {
  containsNone,
  readJson,
  startTestWorker,
  uniqueEmail,
  type TestWorker,
} from './support/worker.ts';

const KEY = 'sk-test-key-0123456789';
let emulator: Emulator;
let worker: TestWorker;
let email: string;

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
  email = uniqueEmail('input');
  worker = await startTestWorker({
    emulator,
    email,
    env: {
      API_KEYS: `${KEY},another-key-987654`,
      MAX_BODY_BYTES: '65536',
      MAX_UPLOAD_BYTES: '4096',
      PROMPT_INLINE_MAX_CHARS: '2000',
    },
  });
});
afterAll(async () => {
  await worker?.close();
  await emulator?.close();
});

const auth = { authorization: `Bearer ${KEY}` };

async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`${worker.url}${path}`, {
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

const chat = (
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  send('/v1/chat/completions', {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function expectOpenAIError(r: { body: { error?: object } }) {
  expect(Object.keys(r.body.error ?? {}).sort()).toEqual(['code', 'message', 'param', 'type']);
}

describe('bad input', () => {
  it.each([
    ['invalid JSON', '{"messages": [', 400],
    ['missing messages', { model: 'gemini-2.5-flash' }, 400],
    ['empty messages', { messages: [] }, 400],
    ['unknown role', { messages: [{ role: 'narrator', content: 'x' }] }, 400],
    ['wrong content type', { messages: [{ role: 'user', content: { text: 'x' } }] }, 400],
    [
      'unknown part type',
      { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] },
      400,
    ],
    ['empty last message', { messages: [{ role: 'user', content: '' }] }, 400],
    [
      'bad image',
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/png;base64,bm90IGFuIGltYWdl' } },
            ],
          },
        ],
      },
      400,
    ],
    ['unknown model', { model: 'gpt-17', messages: [{ role: 'user', content: 'x' }] }, 404],
    ['over the body limit', { messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }, 413],
  ])('%s -> %i', async (_name, body, status) => {
    const before = emulator.records().filter((r) => r.email === email).length;
    const r = await chat(body);
    expect(r.status).toBe(status);
    expectOpenAIError(r);
    expect(emulator.records().filter((r2) => r2.email === email).length).toBe(before);
  });

  it('a wrong content type is a 400, not a crash', async () => {
    const r = await chat('messages=hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(400);
    expectOpenAIError(r);
  });

  it('404 for any path escape under /images', async () => {
    for (const p of [
      '/images/../cookie_cache.json',
      '/images/%2e%2e/cookie_cache.json',
      '/images/..%2fcookie_cache.json',
      '/images/',
    ]) {
      const r = await send(p);
      expect(r.status).toBe(404);
    }
  });

  it('uploads: 200 for an image, 415 for an unsupported type, 413 over the limit', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      'base64',
    );
    const form = (data: Buffer, type: string, name: string) => {
      const f = new FormData();
      f.append('files', new Blob([data], { type }), name);
      return f;
    };
    const ok = await send('/upload', { method: 'POST', body: form(png, 'image/png', 'dot.png') });
    expect(ok.status).toBe(200);
    const files = (ok.body as unknown as { files: string[] }).files;
    expect(files[0]).toMatch(/^uploads\/\d{14}_[0-9a-f]{8}_dot\.png$/);
    const exe = await send('/upload', {
      method: 'POST',
      body: form(Buffer.from('MZ'), 'application/x-msdownload', 'x.exe'),
    });
    expect(exe.status).toBe(415);
    expectOpenAIError(exe);
    const big = await send('/upload', {
      method: 'POST',
      body: form(Buffer.alloc(8192), 'image/png', 'big.png'),
    });
    expect(big.status).toBe(413);
    expectOpenAIError(big);
    const reply = await chat({
      messages: [{ role: 'user', content: 'what is in the upload' }],
      files,
    });
    expect(reply.status).toBe(200);
  });
});

describe('API keys', () => {
  it('401 without a key or with a wrong one, in OpenAI shape; the SDK sees AuthenticationError', async () => {
    const none = await fetch(`${worker.url}/v1/models`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${worker.url}/v1/models`, {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const body = (await wrong.json()) as { error: { message: string } };
    expect(body.error.message).not.toContain('nope');
    await expect(worker.openai('nope').models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    expect((await worker.openai(KEY).models.list()).data.length).toBeGreaterThan(4);
  });

  it('health needs no key', async () => {
    expect((await fetch(`${worker.url}/health`)).status).toBe(200);
  });
});

describe('secrets', () => {
  it('no cookie value, API key or token reaches the logs', async () => {
    await chat({ messages: [{ role: 'user', content: 'log check' }] });
    const cache = readJson<{ cookies: { value: string }[] }>(`${worker.dataDir}/cookie_cache.json`);
    const secrets = [...cache.cookies.map((c) => c.value), KEY, 'another-key-987654'];
    expect(worker.logs().length).toBeGreaterThan(0);
    expect(containsNone(worker.logs(), secrets)).toBe(true);
  });
});

describe('history fidelity', () => {
  const PNG_B64 =
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
  const PNG_SHA = createHash('sha256').update(Buffer.from(PNG_B64, 'base64')).digest('hex');
  const withImage = (text: string) => ({
    role: 'user',
    content: [
      { type: 'text', text },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
    ],
  });
  /** The generate records of this account since `from`, and the uploads each one names. */
  const sendsSince = (from: number) => {
    const all = emulator.records();
    const uploads = new Map(all.flatMap((r) => (r.upload ? [[r.upload.fileId, r.upload]] : [])));
    return all
      .filter((r) => r.seq > from && r.kind === 'generate' && r.email === email)
      .map((r: UpstreamRecord) => ({
        prompt: r.prompt ?? '',
        cid: r.cid ?? null,
        files: (r.fileIds ?? []).map((id) => uploads.get(id)),
      }));
  };
  const lastSeq = () => emulator.records().at(-1)?.seq ?? 0;

  it('a stateless history replayed: the earlier image goes up again, noted in the prompt', async () => {
    const from = lastSeq();
    const r = await chat({
      messages: [
        withImage('What is in this picture?'),
        { role: 'assistant', content: 'An answer this worker never gave.' },
        { role: 'user', content: 'And what colour is it?' },
      ],
    });
    expect(r.status).toBe(200);
    const sends = sendsSince(from);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.cid).toBeNull();
    expect(sends[0]?.prompt).toContain('[User]: What is in this picture?\n(attached: image 1)');
    expect(sends[0]?.files.map((f) => [f?.name, f?.sha256])).toEqual([['image_1.png', PNG_SHA]]);
  });

  it('a stored conversation whose follow-up Gemini rejects: the replay re-uploads the kept image', async () => {
    const first = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [withImage('Remember this picture.')] }),
    });
    expect(first.status).toBe(200);
    const conversationId = first.headers.get('x-conversation-id');
    expect(conversationId).toBeTruthy();
    emulator.injectFault(email, 'followup_rejected');
    const from = lastSeq();
    const r = await chat({
      conversation_id: conversationId,
      messages: [{ role: 'user', content: 'What was in it?' }],
    });
    expect(r.status).toBe(200);
    const sends = sendsSince(from);
    // The follow-up (rejected, nothing attached), then the replay as a new chat with the image.
    expect(sends).toHaveLength(2);
    expect(sends[0]?.cid).not.toBeNull();
    expect(sends[0]?.files).toEqual([]);
    expect(sends[1]?.cid).toBeNull();
    expect(sends[1]?.prompt).toContain('[User]: Remember this picture.\n(attached: image 1)');
    expect(sends[1]?.prompt).toContain('[User]: What was in it?');
    expect(sends[1]?.files.map((f) => [f?.name, f?.sha256])).toEqual([['image_1.png', PNG_SHA]]);
  });

  it('a prompt over PROMPT_INLINE_MAX_CHARS goes as message.txt: tools and the note inline, one send', async () => {
    const long = `Summarize this: ${'lorem ipsum dolor sit amet '.repeat(120).trim()}`;
    expect(long.length).toBeGreaterThan(2000);
    const from = lastSeq();
    const r = await chat({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: long },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'lookup',
            description: 'Look a word up.',
            parameters: { type: 'object' },
          },
        },
      ],
    });
    expect(r.status).toBe(200);
    const sends = sendsSince(from);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.prompt.startsWith(TOOLS_BEGIN)).toBe(true);
    expect(sends[0]?.prompt.endsWith(PROMPT_FILE_NOTE)).toBe(true);
    expect(sends[0]?.prompt).not.toContain('lorem ipsum');
    expect(sends[0]?.files).toHaveLength(1);
    expect(sends[0]?.files[0]).toMatchObject({ name: 'message.txt', mimeType: 'text/plain' });
    expect(sends[0]?.files[0]?.text).toBe(`System instructions:\nBe brief.\n\n[User]: ${long}`);
  });

  it('a long lone message goes whole as message.txt, with only the note inline', async () => {
    // MAX_PROMPT_CHARS' 413 is worker-failures' prompt_too_long case.
    const from = lastSeq();
    const r = await chat({ messages: [{ role: 'user', content: 'z'.repeat(60_000) }] });
    expect(r.status).toBe(200);
    const sends = sendsSince(from);
    expect(sends).toHaveLength(1);
    expect(sends[0]?.prompt).toBe(PROMPT_FILE_NOTE);
    expect(sends[0]?.files[0]?.text).toBe('z'.repeat(60_000));
  });
});
