/**
 * Transient upstream faults, from e2e/worker-failures.test.ts: retried once after a short
 * backoff, never sent three times, a stall or a silent committed stream ended by an error event,
 * and the SDK's own retries never sending a cut prompt twice.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { UPSTREAM_SENT_HEADER } from '../../src/errors.ts';
import { expectErrorShape, post, type FaultSuite } from './faults.ts';

/** Defines the cases on the suite's emulator and its workers with faults. */
export function transientCases(suite: FaultSuite): void {
  describe('transient failures', () => {
    it.each(['transient', 'http_500'] as const)(
      '%s once: retried after a short backoff, answered',
      async (fault) => {
        const { worker, upstream } = await suite.workerWithFault(fault, 1);
        const res = await post(worker, `retry ${fault}`);
        expect(res.status).toBe(200);
        expect(upstream().filter((r) => r.prompt === `retry ${fault}`)).toHaveLength(2);
      },
    );

    it('1013 twice: two sends, never three, a clear 502 saying not taken, then a short cooldown', async () => {
      const { worker, upstream } = await suite.workerWithFault('transient', 3);
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
      const { worker, upstream } = await suite.workerWithFault('http_500', Infinity);
      const res = await post(worker, 'always 500');
      expect(res.status).toBe(502);
      expect(res.sent).toBe('false');
      expect(res.shouldRetry).toBeNull();
      expect(upstream()).toHaveLength(2);
    });

    it('a connection reset before any response is sent once more and answered', async () => {
      const { worker, upstream } = await suite.workerWithFault('reset', 1);
      const res = await post(worker, 'reset once');
      expect(res.status).toBe(200);
      expect(res.sent).toBe('true');
      expect(upstream().filter((r) => r.prompt === 'reset once')).toHaveLength(2);
    });

    it('a stall after the first text ends the stream with an error event, sent once', async () => {
      const { worker, upstream } = await suite.workerWithFault('stall', 1, {
        SSE_KEEPALIVE_MS: '200',
      });
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
      expect((failure as InstanceType<typeof OpenAI.APIError>).code).toBe(
        'upstream_outcome_unknown',
      );
      expect(text.length).toBeGreaterThan(0);
      expect(upstream()).toHaveLength(1);
    });

    it('a silent committed stream sends keep-alive comments, then the error event and [DONE]', async () => {
      const { worker, upstream } = await suite.workerWithFault('stall', 1, {
        SSE_KEEPALIVE_MS: '200',
      });
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
        const { worker, upstream } = await suite.workerWithFault(fault);
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
        const { worker, upstream } = await suite.workerWithFault(fault);
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
      const { worker, upstream } = await suite.workerWithFault('drop_before_answer');
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
}
