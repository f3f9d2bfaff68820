/**
 * Upstream faults from e2e/worker-chat.test.ts: a stream cut mid-answer, a client that leaves
 * mid-stream, and a blocked IP (the /sorry redirect) at the send and at the /app load.
 * Keep these last in a suite: each blocked-IP case cools the account down.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/person.ts';
import { generationsOf, type ChatTarget } from './chat.ts';

/** Defines the cases; `t()` is the suite's worker and the emulator behind it. */
export function faultCases(t: () => ChatTarget): void {
  const generations = (prompt?: string) => generationsOf(t().emulator, prompt);

  describe('faults', () => {
    it('a stream cut mid-answer: the text so far with finish_reason length, sent once', async () => {
      const { worker, emulator, email } = t();
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
      const { worker, emulator, email } = t();
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
      const res = await fetch(`${t().worker.url}/v1/chat/completions`, {
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
      const reset = await fetch(`${t().worker.url}/admin/cooldown/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
    });

    it('from StreamGenerate', async () => {
      const { emulator, email } = t();
      emulator.injectFault(email, 'sorry');
      await expectBlocked('blocked at the send');
      expect(generations('blocked at the send')).toMatchObject([{ fault: 'sorry', status: 302 }]);
    });

    it('from the /app load', async () => {
      const { emulator, email } = t();
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
}
