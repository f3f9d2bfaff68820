/**
 * Conversations from e2e/worker-chat.test.ts, both ways (by conversation_id, and by a resent
 * history, native or replayed), their listing and deletion; then the model list and health.
 */
import { describe, expect, it } from 'vitest';
import { generationsOf, type ChatTarget, type Transport } from './chat.ts';

/** Defines the cases; `t()` is the suite's worker on `transport` and the emulator behind it. */
export function conversationCases(t: () => ChatTarget, transport: Transport): void {
  const generations = (prompt?: string) => generationsOf(t().emulator, prompt);

  describe('conversations', () => {
    it('continues the same Gemini chat by conversation_id', async () => {
      const { worker } = t();
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
      // Without a record of the first turn, the next line would pass on nothing.
      expect(a).toBeDefined();
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
      const { worker } = t();
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
      const { worker } = t();
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
      const { worker } = t();
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
      const { worker } = t();
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
      const { worker } = t();
      const health = (await fetch(`${worker.url}/health`).then((r) => r.json())) as Record<
        string,
        unknown
      >;
      expect(health['status']).toBe('ok');
      expect(health['transport']).toBe(transport);
    });
  });
}
