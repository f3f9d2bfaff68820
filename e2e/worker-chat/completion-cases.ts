/**
 * Chat completions from e2e/worker-chat.test.ts: with and without streaming, usage, thoughts as
 * reasoning_content, and images in (content-push) and out (saved and served from /images).
 */
import { describe, expect, it } from 'vitest';
import { deltasOf, generationsOf, PNG_1PX, type ChatTarget, type Transport } from './chat.ts';

/** Defines the cases; `t()` is the suite's worker on `transport` and the emulator behind it. */
export function completionCases(t: () => ChatTarget, transport: Transport): void {
  const generations = (prompt?: string) => generationsOf(t().emulator, prompt);

  describe('chat completions', () => {
    it('answers without streaming, with usage and a conversation id', async () => {
      const { worker } = t();
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
      const { worker } = t();
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
      const { worker } = t();
      const stream = await worker.openai().chat.completions.create({
        model: 'gemini-3-flash-thinking',
        messages: [{ role: 'user', content: 'think about this' }],
        stream: true,
      });
      const { reasoning, content } = await deltasOf(stream);
      expect(reasoning.length).toBeGreaterThan(0);
      expect(content).toContain('think about this');
    });

    it('sends an image input upstream through content-push', async () => {
      const { worker, emulator } = t();
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
      const { worker, emulator, email } = t();
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
}
