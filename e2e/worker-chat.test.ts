/**
 * The worker's main path against the emulator over HTTPS, driven by the official openai SDK:
 * chat with and without streaming, usage, images in and out, and conversations both ways. All of
 * it twice: with the node transport, and with GEMINI_TRANSPORT=page through a signed-in Chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import { eventually } from './support/person.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

describe.each(['node', 'page'] as const)('%s transport', (transport) => {
  let emulator: Emulator;
  let worker: TestWorker;
  let email = '';

  const generations = (prompt?: string) =>
    emulator
      .records()
      .filter((r) => r.kind === 'generate' && (prompt === undefined || r.prompt?.includes(prompt)));

  beforeAll(async () => {
    emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
    email = uniqueEmail(`chat-${transport}`);
    worker = await startTestWorker({ emulator, email, transport });
  });

  afterAll(async () => {
    await worker?.close();
    await emulator?.close();
  });

  describe('chat completions', () => {
    it('answers without streaming, with usage and a conversation id', async () => {
      const res = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'plain question 你好 🌍' }],
      });
      const body = res as typeof res & { conversation_id?: string };
      expect(res.object).toBe('chat.completion');
      expect(res.choices[0]?.message.role).toBe('assistant');
      expect(res.choices[0]?.message.content).toContain('plain question 你好 🌍');
      expect(res.choices[0]?.finish_reason).toBe('stop');
      expect(res.usage?.total_tokens).toBeGreaterThan(0);
      expect(body.conversation_id).toMatch(/^[\w-]+$/);
      expect(generations('plain question')).toHaveLength(1);
      // The page transport's request is Chromium's own; the node transport only claims a Chrome.
      const ua = generations('plain question')[0]?.userAgent ?? '';
      expect(ua.includes('HeadlessChrome')).toBe(transport === 'page');
    });

    it('streams chunks: role first, deltas that add up, finish_reason, usage last', async () => {
      const stream = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-pro',
        messages: [{ role: 'user', content: 'stream question ✨ 漢字' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const c of stream) {
        chunks.push(c);
      }
      expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
      const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
      expect(contentChunks.length).toBeGreaterThan(1);
      const text = contentChunks.map((c) => c.choices[0]?.delta.content).join('');
      expect(text).toContain('stream question ✨ 漢字');
      const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
      expect(finish.map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.completion_tokens).toBeGreaterThan(0);
      expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
      expect(generations('stream question')).toHaveLength(1);
    });

    it('streams thoughts as reasoning_content for a thinking model', async () => {
      const stream = await worker.openai().chat.completions.create({
        model: 'gemini-3-flash-thinking',
        messages: [{ role: 'user', content: 'think about this' }],
        stream: true,
      });
      let reasoning = '';
      let content = '';
      for await (const c of stream) {
        const delta = c.choices[0]?.delta as
          { content?: string; reasoning_content?: string } | undefined;
        reasoning += delta?.reasoning_content ?? '';
        content += delta?.content ?? '';
      }
      expect(reasoning.length).toBeGreaterThan(0);
      expect(content).toContain('think about this');
    });

    it('sends an image input upstream through content-push', async () => {
      const res = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'describe this picture' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
            ],
          },
        ],
      });
      expect(res.choices[0]?.message.content).toMatch(/received 1 file/i);
      expect(
        emulator.records().filter((r) => r.kind === 'upload' && r.status === 200).length,
      ).toBeGreaterThan(0);
      expect(generations('describe this picture')[0]?.fileIds).toHaveLength(1);
      const upload = emulator.records().find((r) => r.kind === 'upload' && r.status === 200);
      expect(upload?.userAgent?.includes('HeadlessChrome')).toBe(transport === 'page');
    });

    it('saves a generated image and serves it back from /images', async () => {
      const res = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'please draw a lighthouse' }],
      });
      const content = res.choices[0]?.message.content ?? '';
      expect(content).not.toContain('googleusercontent.com/image_generation_content');
      const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(content)?.[1];
      expect(link).toBeDefined();
      const img = await fetch(link!);
      expect(img.status).toBe(200);
      const bytes = Buffer.from(await img.arrayBuffer());
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      // The fife host serves a generated image only to its owner's cookies. Under page the
      // download is Chromium's own (its user agent, its cookies), never this process's.
      const downloads = emulator
        .records()
        .filter((r) => r.kind === 'image' && r.path.startsWith('/rd-gg-dl/'));
      expect(downloads.length).toBeGreaterThan(0);
      for (const r of downloads) {
        expect(r).toMatchObject({ status: 200, email });
        expect(r.userAgent?.includes('HeadlessChrome')).toBe(transport === 'page');
      }
    });
  });

  describe('conversations', () => {
    it('continues the same Gemini chat by conversation_id', async () => {
      const client = worker.openai();
      const first = (await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'first turn by id' }],
      })) as { conversation_id?: string };
      const id = first.conversation_id!;
      const second = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'second turn by id' }],
        // @ts-expect-error: the seed's extension field
        conversation_id: id,
      });
      const [a, b] = [generations('first turn by id')[0], generations('second turn by id')[0]];
      expect(a?.cid ?? null).toBeNull();
      expect(b?.cid).toMatch(/^c_/);
      expect(b?.prompt).toBe('second turn by id');
      expect(second.choices[0]?.message.content).toMatch(/turn 2/i);
      const stored = await fetch(`${worker.url}/conversations/${id}`).then(
        (r) => r.json() as Promise<{ messages: unknown[] }>,
      );
      expect(stored.messages).toHaveLength(4);
    });

    it('continues natively when the client resends the whole history without an id', async () => {
      const client = worker.openai();
      const q1 = { role: 'user' as const, content: 'first turn by history' };
      const first = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [q1],
      });
      const answer = first.choices[0]?.message.content ?? '';
      await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          q1,
          { role: 'assistant', content: answer },
          { role: 'user', content: 'second turn by history' },
        ],
      });
      const second = generations('second turn by history');
      expect(second).toHaveLength(1);
      expect(second[0]?.cid).toMatch(/^c_/);
      expect(second[0]?.prompt).toBe('second turn by history');
    });

    it('replays a history it does not hold as one prompt in a new chat', async () => {
      await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'an old question' },
          { role: 'assistant', content: 'an old answer from elsewhere' },
          { role: 'user', content: 'replayed turn' },
        ],
      });
      const [g] = generations('replayed turn');
      expect(g?.cid ?? null).toBeNull();
      expect(g?.prompt).toContain('System instructions:\nYou are terse.');
      expect(g?.prompt).toContain('[Assistant]: an old answer from elsewhere');
    });

    it('lists and deletes conversations', async () => {
      const list = await fetch(`${worker.url}/conversations`).then(
        (r) => r.json() as Promise<{ total: number; conversations: { conversation_id: string }[] }>,
      );
      expect(list.total).toBeGreaterThan(0);
      const id = list.conversations[0]!.conversation_id;
      expect((await fetch(`${worker.url}/conversations/${id}`, { method: 'DELETE' })).status).toBe(
        200,
      );
      expect((await fetch(`${worker.url}/conversations/${id}`)).status).toBe(404);
    });
  });

  describe('models and health', () => {
    it('lists the models with created and owned_by', async () => {
      const models = await worker.openai().models.list();
      const ids = models.data.map((m) => m.id);
      for (const name of [
        'gemini-2.5-flash',
        'gemini-2.5-pro',
        'gemini-3.0-pro',
        'gemini-3-flash',
        'gemini-3-flash-thinking',
      ]) {
        expect(ids).toContain(name);
      }
      expect(models.data.every((m) => m.owned_by === 'google' && m.created > 0)).toBe(true);
    });

    it('reports health', async () => {
      const health = (await fetch(`${worker.url}/health`).then((r) => r.json())) as Record<
        string,
        unknown
      >;
      expect(health['status']).toBe('ok');
      expect(health['transport']).toBe(transport);
    });
  });

  describe('faults', () => {
    it('a stream cut mid-answer: the text so far with finish_reason length, sent once', async () => {
      emulator.injectFault(email, 'drop');
      const res = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'cut me off' }],
      });
      expect(res.choices[0]?.finish_reason).toBe('length');
      expect(res.choices[0]?.message.content?.length).toBeGreaterThan(0);
      expect(generations('cut me off')).toHaveLength(1);
    });

    it('a client that leaves mid-stream cancels the upstream request', async () => {
      emulator.injectFault(email, 'stall');
      const controller = new AbortController();
      const stream = await worker.openai().chat.completions.create(
        {
          model: 'gemini-2.5-flash',
          messages: [{ role: 'user', content: 'leave me early' }],
          stream: true,
        },
        { signal: controller.signal },
      );
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) {
          break; // the SDK aborts its request when the loop is left
        }
      }
      // The stall holds the answer open until the upstream request goes away.
      await eventually(async () => generations('leave me early')[0]?.endedAt != null, 10_000, 50);
      expect(generations('leave me early')).toHaveLength(1);
      // The account's line is free again: the next turn is answered.
      const next = await worker.openai().chat.completions.create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'after leaving' }],
      });
      expect(next.choices[0]?.finish_reason).toBe('stop');
    });
  });

  // Each case cools the account down; the reset after it lets the next case in. Keep these last:
  // under page the /app case leaves the tab on /sorry until its next keep-alive reload.
  describe('a blocked IP (the /sorry redirect) cools the account down', () => {
    const ask = async (content: string) => {
      const res = await fetch(`${worker.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content }] }),
      });
      const body = (await res.json()) as { error?: { code?: string } };
      return {
        status: res.status,
        code: body.error?.code,
        retryAfter: res.headers.get('retry-after'),
      };
    };
    const expectBlocked = async (prompt: string) => {
      const first = await ask(prompt);
      expect(first).toMatchObject({ status: 429, code: 'ip_blocked' });
      expect(Number(first.retryAfter)).toBeGreaterThan(3000);
      const before = generations().length;
      const second = await ask(`${prompt}, again`);
      expect(second.status).toBe(429);
      expect(Number(second.retryAfter)).toBeGreaterThan(3000);
      expect(generations()).toHaveLength(before);
    };

    afterEach(async () => {
      const reset = await fetch(`${worker.url}/admin/cooldown/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
    });

    it('from StreamGenerate', async () => {
      emulator.injectFault(email, 'sorry');
      await expectBlocked('blocked at the send');
      expect(generations('blocked at the send')).toMatchObject([{ fault: 'sorry', status: 302 }]);
    });

    it('from the /app load', async () => {
      // A 401 makes the client load /app again (under page after a tab reload, which is where
      // the block shows), and that load meets the block.
      emulator.injectFault(email, 'http_401');
      emulator.injectFault(email, 'sorry');
      const since = emulator.records().length;
      await expectBlocked('blocked at the page load');
      const apps = emulator
        .records()
        .slice(since)
        .filter((r) => r.kind === 'app');
      expect(apps).toMatchObject([{ fault: 'sorry', status: 302 }]);
    });
  });
});

/**
 * The newer protocol end to end: a worker sending the 102-slot request form (the model selector
 * inside the request) gets the emulator's newer reply form (high fields in sparse trailing
 * objects, the model echoed as a list, BardErrorInfo keyed by number) and reads all of it
 * without counting drift.
 */
describe('the newer request and reply forms (GEMINI_REQUEST_FORM=102)', () => {
  let emulator: Emulator;
  let worker: TestWorker;
  let email = '';
  const generation = (prompt: string) =>
    emulator.records().find((r) => r.kind === 'generate' && r.prompt === prompt);
  const drift = async () =>
    (
      (await fetch(`${worker.url}/health`).then((r) => r.json())) as {
        protocol_drift: { total: number };
      }
    ).protocol_drift.total;

  beforeAll(async () => {
    emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 5 });
    email = uniqueEmail('chat-newer');
    worker = await startTestWorker({ emulator, email, env: { GEMINI_REQUEST_FORM: '102' } });
  });

  afterAll(async () => {
    await worker?.close();
    await emulator?.close();
  });

  it('streams thoughts and text, saves a generated image, and continues the chat', async () => {
    const stream = await worker.openai().chat.completions.create({
      model: 'gemini-3-flash-thinking',
      messages: [{ role: 'user', content: 'newer form: draw a lighthouse' }],
      stream: true,
    });
    let reasoning = '';
    let content = '';
    let id: string | undefined;
    for await (const c of stream) {
      const delta = c.choices[0]?.delta as
        { content?: string; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      content += delta?.content ?? '';
      id ??= (c as { conversation_id?: string }).conversation_id;
    }
    expect(reasoning).toContain('lighthouse');
    expect(content).toContain('newer form: draw a lighthouse');
    const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(content)?.[1];
    expect((await fetch(link!)).status).toBe(200);
    expect(generation('newer form: draw a lighthouse')).toMatchObject({
      requestSlots: 102,
      modelNumber: 1,
    });

    const second = await worker.openai().chat.completions.create({
      model: 'gemini-2.5-pro',
      messages: [
        { role: 'user', content: 'newer form: draw a lighthouse' },
        { role: 'assistant', content },
        { role: 'user', content: 'newer form: second turn' },
      ],
    });
    expect(second.choices[0]?.message.content).toMatch(/turn 2/i);
    const next = generation('newer form: second turn');
    expect(next?.cid).toMatch(/^c_/);
    expect(next).toMatchObject({ requestSlots: 102, modelNumber: 3 });
    expect(await drift()).toBe(0);
  });

  it('reads a keyed BardErrorInfo code: 1052 is a 400 naming the model', async () => {
    emulator.injectFault(email, 'model_invalid');
    const res = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'newer form: a stale model' }],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; param: string | null } };
    expect(body.error).toMatchObject({ code: 'model_not_supported', param: 'model' });
    expect(generation('newer form: a stale model')?.requestSlots).toBe(102);
    expect(await drift()).toBe(0);
  });
});
