/**
 * Limits, the account line and model errors, from e2e/worker-failures.test.ts: 413 before
 * queueing, images during a cooldown, an upload waiting for a generation on the same account,
 * 1052, 1097 (retried once as a new chat) and 1096 after a complete answer.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/person.ts';
import { expectErrorShape, post, type FaultSuite } from './faults.ts';

/** Defines the cases on the suite's emulator and its workers with faults. */
export function limitCases(suite: FaultSuite): void {
  describe('limits and the account line', () => {
    const PNG =
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    const uploads = () =>
      suite
        .emulator()
        .records()
        .filter((r) => r.kind === 'upload');
    const withImage = (text: string) => [
      { type: 'text', text },
      { type: 'image_url', image_url: { url: PNG } },
    ];

    it('a prompt over MAX_PROMPT_CHARS gets 413 before it is queued', async () => {
      const { worker, upstream } = await suite.workerWithFault(null, 1, {
        MAX_PROMPT_CHARS: '100',
      });
      const res = await post(worker, 'x'.repeat(101));
      expect(res.status).toBe(413);
      expectErrorShape(res.body);
      expect(res.body.error?.code).toBe('prompt_too_long');
      expect(res.sent).toBe('false');
      expect(upstream()).toHaveLength(0);
      expect((await post(worker, 'x'.repeat(100))).status).toBe(200);
    });

    it('an image during a cooldown: 429 with Retry-After, and nothing reaches content-push', async () => {
      const { worker } = await suite.workerWithFault('usage_limit');
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
      const { worker, email } = await suite.workerWithFault(null);
      const before = uploads().length;
      suite.emulator().setOptions({ chunkDelayMs: 150 });
      try {
        const long = post(worker, 'a long answer first');
        await eventually(
          async () =>
            suite
              .emulator()
              .records()
              .some((r) => r.kind === 'generate' && r.email === email),
          10_000,
          20,
        );
        const image = await post(worker, withImage('then an image'));
        expect(image.status).toBe(200);
        expect((await long).status).toBe(200);
      } finally {
        suite.emulator().setOptions({ chunkDelayMs: 5 });
      }
      const records = suite
        .emulator()
        .records()
        .filter((r) => r.email === email);
      const first = records.find(
        (r) => r.kind === 'generate' && r.prompt === 'a long answer first',
      );
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
      const { worker } = await suite.workerWithFault('model_invalid');
      const res = await post(worker, 'bad model');
      expect(res.status).toBe(400);
      expect(res.body.error?.param).toBe('model');
      expect(res.body.error?.message).toContain('gemini-2.5-flash');
      expect((await post(worker, 'fine afterwards')).status).toBe(200);
    });

    it('1097: the follow-up is retried once as a new chat carrying the history', async () => {
      const { worker, email, upstream } = await suite.workerWithFault(null);
      const first = await post(worker, 'follow-up base');
      const id = (first.body as { conversation_id?: string }).conversation_id;
      suite.emulator().injectFault(email, 'followup_rejected');
      const second = await post(worker, 'follow-up rejected once', { conversation_id: id });
      expect(second.status).toBe(200);
      const tries = upstream().filter((r) => r.prompt?.includes('follow-up rejected once'));
      expect(tries).toHaveLength(2);
      expect(tries[0]?.cid).toMatch(/^c_/);
      expect(tries[1]?.cid ?? null).toBeNull();
      expect(tries[1]?.prompt).toContain('follow-up base');
    });

    it('1096 after a complete answer is ignored, sent once', async () => {
      const { worker, upstream } = await suite.workerWithFault('error_after_answer');
      const res = await post(worker, 'late error');
      expect(res.status).toBe(200);
      expect(res.sent).toBe('true');
      expect(upstream()).toHaveLength(1);
    });
  });
}
