/**
 * Bad input, API keys and secrets, from e2e/worker-input.test.ts: a clear 4xx in OpenAI's shape
 * that reaches nothing upstream and never crashes the worker, the key guarding the API, and no
 * secret in the logs.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { containsNone, readJson } from '../support/worker.ts';
import { chat, expectOpenAIError, KEY, send, type InputTarget } from './input.ts';

/** Defines the cases; `t()` is the suite's worker and the emulator behind it. */
export function guardCases(t: () => InputTarget): void {
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
      const before = t()
        .emulator.records()
        .filter((r) => r.email === t().email).length;
      const r = await chat(t(), body);
      expect(r.status).toBe(status);
      expectOpenAIError(r);
      expect(
        t()
          .emulator.records()
          .filter((r2) => r2.email === t().email).length,
      ).toBe(before);
    });

    it('a wrong content type is a 400, not a crash', async () => {
      const r = await chat(t(), 'messages=hi', {
        'content-type': 'application/x-www-form-urlencoded',
      });
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
        const r = await send(t(), p);
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
      const ok = await send(t(), '/upload', {
        method: 'POST',
        body: form(png, 'image/png', 'dot.png'),
      });
      expect(ok.status).toBe(200);
      const files = (ok.body as unknown as { files: string[] }).files;
      expect(files[0]).toMatch(/^uploads\/\d{14}_[0-9a-f]{8}_dot\.png$/);
      const exe = await send(t(), '/upload', {
        method: 'POST',
        body: form(Buffer.from('MZ'), 'application/x-msdownload', 'x.exe'),
      });
      expect(exe.status).toBe(415);
      expectOpenAIError(exe);
      const big = await send(t(), '/upload', {
        method: 'POST',
        body: form(Buffer.alloc(8192), 'image/png', 'big.png'),
      });
      expect(big.status).toBe(413);
      expectOpenAIError(big);
      const reply = await chat(t(), {
        messages: [{ role: 'user', content: 'what is in the upload' }],
        files,
      });
      expect(reply.status).toBe(200);
    });
  });

  describe('the image cap', () => {
    const PNG_URL =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    const copies = (text: string, n: number) => ({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text },
            ...Array.from({ length: n }, () => ({
              type: 'image_url',
              image_url: { url: PNG_URL },
            })),
          ],
        },
      ],
    });
    // The suite's emulator serves its one worker (upload records carry no account).
    const upstream = (seq: number, kind: string) =>
      t()
        .emulator.records()
        .filter((r) => r.seq > seq && r.kind === kind);
    const lastSeq = () => t().emulator.records().at(-1)?.seq ?? 0;

    it('11 copies of one image: 400 too_many_images, nothing uploaded or sent', async () => {
      const seq = lastSeq();
      const r = await chat(t(), copies('eleven copies', 11));
      expect(r.status).toBe(400);
      expectOpenAIError(r);
      expect(r.body.error?.code).toBe('too_many_images');
      expect(upstream(seq, 'upload')).toEqual([]);
      expect(upstream(seq, 'generate')).toEqual([]);
    });

    it('10 copies of one image: answered, one upload per copy', async () => {
      const seq = lastSeq();
      const r = await chat(t(), copies('ten copies', 10));
      expect(r.status).toBe(200);
      expect(upstream(seq, 'upload')).toHaveLength(10);
      const [sent] = upstream(seq, 'generate');
      expect(new Set(sent?.fileIds).size).toBe(10);
    });
  });

  describe('API keys', () => {
    it('401 without a key or with a wrong one, in OpenAI shape; the SDK sees AuthenticationError', async () => {
      const none = await fetch(`${t().worker.url}/v1/models`);
      expect(none.status).toBe(401);
      const wrong = await fetch(`${t().worker.url}/v1/models`, {
        headers: { authorization: 'Bearer nope' },
      });
      expect(wrong.status).toBe(401);
      const body = (await wrong.json()) as { error: { message: string } };
      expect(body.error.message).not.toContain('nope');
      await expect(t().worker.openai('nope').models.list()).rejects.toBeInstanceOf(
        OpenAI.AuthenticationError,
      );
      expect((await t().worker.openai(KEY).models.list()).data.length).toBeGreaterThan(4);
    });

    it('health needs no key', async () => {
      expect((await fetch(`${t().worker.url}/health`)).status).toBe(200);
    });
  });

  describe('secrets', () => {
    it('no cookie value, API key or token reaches the logs', async () => {
      await chat(t(), { messages: [{ role: 'user', content: 'log check' }] });
      const cache = readJson<{ cookies: { value: string }[] }>(
        `${t().worker.dataDir}/cookie_cache.json`,
      );
      const secrets = [...cache.cookies.map((c) => c.value), KEY, 'another-key-987654'];
      expect(t().worker.logs().length).toBeGreaterThan(0);
      expect(containsNone(t().worker.logs(), secrets)).toBe(true);
    });
  });
}
