/**
 * Faults that concern the account, from e2e/worker-failures.test.ts: quota and blocks cool it
 * down (429 with Retry-After, then 429 at once without touching Google), a single 401 heals by
 * re-reading cookies, a dead session is 503 login_required.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { expectErrorShape, post, type FaultSuite } from './faults.ts';

/** Defines the cases on the suite's emulator and its workers with faults. */
export function accountCases(suite: FaultSuite): void {
  describe('quota and blocks cool the account down', () => {
    it.each([
      ['usage_limit', 'usage_limit'],
      ['ip_blocked', 'ip_blocked'],
      ['sorry', 'ip_blocked'],
    ] as const)(
      '%s: 429 with Retry-After, then 429 at once without touching Google',
      async (fault, code) => {
        const { worker, upstream } = await suite.workerWithFault(fault);
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
      const { worker, upstream } = await suite.workerWithFault('http_401', 1);
      const res = await post(worker, 'auth heals');
      expect(res.status).toBe(200);
      expect(upstream().filter((r) => r.prompt === 'auth heals')).toHaveLength(2);
    });

    it('answers 503 login_required with Retry-After when the session stays dead', async () => {
      const { worker } = await suite.workerWithFault('http_401', Infinity);
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
}
