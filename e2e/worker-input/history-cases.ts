/**
 * History fidelity, from e2e/worker-input.test.ts: a replay re-uploads earlier turns' images, and
 * a prompt too long to send inline goes up as message.txt, proven from the emulator's records.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TOOLS_BEGIN } from '../../src/api/core/index.ts';
import { PROMPT_FILE_NOTE } from '../../src/api/prompt-file.ts';
import type { UpstreamRecord } from '../../src/emulator/index.ts';
import { auth, chat, type InputTarget } from './input.ts';

/** Defines the cases; `t()` is the suite's worker and the emulator behind it. */
export function historyCases(t: () => InputTarget): void {
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
      const all = t().emulator.records();
      const uploads = new Map(all.flatMap((r) => (r.upload ? [[r.upload.fileId, r.upload]] : [])));
      return all
        .filter((r) => r.seq > from && r.kind === 'generate' && r.email === t().email)
        .map((r: UpstreamRecord) => ({
          prompt: r.prompt ?? '',
          cid: r.cid ?? null,
          files: (r.fileIds ?? []).map((id) => uploads.get(id)),
        }));
    };
    const lastSeq = () => t().emulator.records().at(-1)?.seq ?? 0;

    it('a stateless history replayed: the earlier image goes up again, noted in the prompt', async () => {
      const from = lastSeq();
      const r = await chat(t(), {
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
      const first = await fetch(`${t().worker.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [withImage('Remember this picture.')] }),
      });
      expect(first.status).toBe(200);
      const conversationId = first.headers.get('x-conversation-id');
      expect(conversationId).toBeTruthy();
      t().emulator.injectFault(t().email, 'followup_rejected');
      const from = lastSeq();
      const r = await chat(t(), {
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
      const r = await chat(t(), {
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
      const r = await chat(t(), { messages: [{ role: 'user', content: 'z'.repeat(60_000) }] });
      expect(r.status).toBe(200);
      const sends = sendsSince(from);
      expect(sends).toHaveLength(1);
      expect(sends[0]?.prompt).toBe(PROMPT_FILE_NOTE);
      expect(sends[0]?.files[0]?.text).toBe('z'.repeat(60_000));
    });
  });
}
