/**
 * Jobs run in process, from e2e/queue.test.ts, on the shared real Redis. The end of one: its last
 * reply goes out before BullMQ writes its end, yet the next turn in the same process still finds
 * the line free (it claims behind the end). That a job queued meanwhile by another process starts
 * when it ends is in e2e/queue.test.ts (the idle line's case). And a job started beside its claim,
 * whose claim another process beat: it never sends early, and runs once from BullMQ.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createCommandRedis } from '../../src/queue/index.ts';
import {
  cleanups,
  collect,
  heldGenerate,
  job,
  makeQueue,
  recordingGenerate,
  recordingLogger,
  sweepAfterTest,
  waitUntil,
} from './support.ts';

async function redisFor(prefix: string): Promise<Redis> {
  const redis = createCommandRedis(inject('redisUrl'));
  cleanups.push(() => redis.disconnect());
  await waitUntil(() => redis.status === 'ready');
  sweepAfterTest(redis, prefix);
  return redis;
}

/** The names of the events BullMQ streamed for the queue `queueName` under `prefix`. */
async function streamedEvents(prefix: string, queueName: string): Promise<string[]> {
  const redis = await redisFor(prefix);
  const entries = await redis.xrange(`${prefix}:${queueName}:events`, '-', '+');
  return entries.map(([, fields]) => fields[fields.indexOf('event') + 1] ?? '');
}

export function claimLocalCases(): void {
  describe('ChatQueue: the end of a job run in process', () => {
    it('turn after turn in one process, each job claims the idle line: none is added to BullMQ', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = recordingGenerate(0);
      const a = await makeQueue(prefix, upstream.generate);
      const turns = Array.from({ length: 8 }, (_, i) => `turn${i}`);
      for (const turn of turns) {
        // Each starts the moment the one before answered, before that job's end was written.
        expect(await collect(a.queue.stream(job(turn), new AbortController().signal))).toEqual({
          text: `echo:${turn}`,
          error: undefined,
        });
      }
      await waitUntil(async () => (await a.queue.stats()).active === 0, 2000);
      const events = await streamedEvents(prefix, a.queue.names.queue);
      expect(events.filter((e) => e === 'added' || e === 'waiting')).toEqual([]);
      expect(events.filter((e) => e === 'completed')).toHaveLength(turns.length);
      expect(upstream.maxRunning()).toBe(1);
    });

    it('an ended job leaves what BullMQ leaves: no job keys, no lock, no stalled mark, no slot', async () => {
      const prefix = `t-${randomUUID()}`;
      const a = await makeQueue(prefix, recordingGenerate(0).generate);
      const redis = await redisFor(prefix);
      const { names } = a.queue;
      const q = `${prefix}:${names.queue}`;
      for (const turn of ['one', 'two']) {
        await collect(a.queue.stream(job(turn), new AbortController().signal));
      }
      await waitUntil(async () => (await redis.zcard(names.slots)) === 0, 2000);
      const left = await redis.keys(`${q}:*`);
      // Job hashes and locks are named by the job's uuid; the queue's own keys are not. The
      // "sent" marks (ours, not BullMQ's) stay until their ttl, the at-most-once record.
      const sent = left.filter((k) => k.startsWith(`${q}:sent:`));
      expect(sent).toHaveLength(2);
      for (const key of sent) {
        expect(await redis.pttl(key)).toBeGreaterThan(0);
      }
      const jobKeys = left.filter((k) => !sent.includes(k) && /:[0-9a-f-]{36}(:|$)/.test(k));
      expect(jobKeys).toEqual([]);
      expect(await redis.llen(`${q}:active`)).toBe(0);
      expect(await redis.scard(`${q}:stalled`)).toBe(0);
    });

    it('an end waits out its delay unless a claim or a close here needs it first', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = recordingGenerate(0);
      // A minute's delay: nothing below may wait for it.
      const a = await makeQueue(prefix, upstream.generate, { endDelayMs: 60_000 });
      for (const turn of ['one', 'two', 'three']) {
        expect(await collect(a.queue.stream(job(turn), new AbortController().signal))).toEqual({
          text: `echo:${turn}`,
          error: undefined,
        });
      }
      // Each turn's claim wrote the end before it and found the line free: nothing was queued.
      const events = await streamedEvents(prefix, a.queue.names.queue);
      expect(events.filter((e) => e === 'added' || e === 'waiting')).toEqual([]);
      expect(events.filter((e) => e === 'completed')).toHaveLength(2);
      // The last end still waits out its delay, until the queue closes.
      expect((await a.queue.stats()).active).toBe(1);
      await a.queue.close();
      const redis = await redisFor(prefix);
      expect(await redis.llen(`${prefix}:${a.queue.names.queue}:active`)).toBe(0);
    });

    it('a job queued here behind a job that answered starts without waiting out its end', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = heldGenerate();
      const a = await makeQueue(prefix, upstream.generate, { endDelayMs: 60_000 });
      const first = collect(a.queue.stream(job('first'), new AbortController().signal));
      await waitUntil(() => upstream.calls.length === 1);
      const second = collect(a.queue.stream(job('second'), new AbortController().signal));
      await waitUntil(async () => (await a.queue.stats()).waiting === 1);
      upstream.calls[0]!.release();
      expect((await first).text).toBe('held:first');
      // Within the test's time, not the minute: the end woke BullMQ's worker for it.
      await waitUntil(() => upstream.calls.length === 2);
      upstream.calls[1]!.release();
      expect((await second).text).toBe('held:second');
    });

    it('a job whose lock another process took is left to it at the end; its slot is freed', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = heldGenerate();
      const { logger, lines } = recordingLogger();
      const a = await makeQueue(prefix, upstream.generate, { logger });
      const redis = await redisFor(prefix);
      const q = `${prefix}:${a.queue.names.queue}`;
      const answer = collect(a.queue.stream(job('held'), new AbortController().signal));
      await waitUntil(() => upstream.calls.length === 1);
      const [id] = await redis.lrange(`${q}:active`, 0, -1);
      await redis.set(`${q}:${id}:lock`, 'another-process', 'PX', 30_000);
      upstream.calls[0]!.release();
      expect((await answer).text).toBe('held:held');
      await waitUntil(async () => (await redis.zscore(a.queue.names.slots, id!)) === null, 2000);
      expect(await redis.lrange(`${q}:active`, 0, -1)).toEqual([id]);
      expect(await redis.exists(`${q}:${id}`)).toBe(1);
      await waitUntil(() =>
        lines().some((l) => l['message'] === 'could not finish an in-process job in BullMQ'),
      );
    });
  });

  describe('ChatQueue: a job started beside its claim', () => {
    it('whose claim another process beat sends nothing early, and runs once from BullMQ', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = heldGenerate();
      const a = await makeQueue(prefix, upstream.generate);
      const b = await makeQueue(prefix, upstream.generate);
      const redis = await redisFor(prefix);
      const first = collect(a.queue.stream(job('first'), new AbortController().signal));
      await waitUntil(() => upstream.calls.length === 1);
      // Nothing runs or waits in b: its job starts at once, and waits at its gate for the claim.
      const second = collect(b.queue.stream(job('second'), new AbortController().signal));
      await waitUntil(async () => (await b.queue.stats()).waiting === 1);
      await waitUntil(() => upstream.made() === 2);
      await sleep(50); // what the early run would write at its end, it would have written by now
      expect(upstream.calls.map((c) => c.prompt)).toEqual(['first']);
      // The early run wrote nothing of its own: both slots held, one lock (the first job's), one
      // "sent" mark.
      const q = `${prefix}:${a.queue.names.queue}`;
      expect(await redis.zcard(a.queue.names.slots)).toBe(2);
      expect(await redis.keys(`${q}:*:lock`)).toHaveLength(1);
      expect(await redis.keys(`${q}:sent:*`)).toHaveLength(1);
      upstream.calls[0]!.release();
      expect(await first).toEqual({ text: 'held:first', error: undefined });
      await waitUntil(() => upstream.calls.length === 2, 2000);
      upstream.calls[1]!.release();
      // Its stream got the run's replies, numbered from the start: the early run said nothing.
      expect(await second).toEqual({ text: 'held:second', error: undefined });
      expect(upstream.made()).toBe(3);
      expect(upstream.calls.map((c) => c.prompt)).toEqual(['first', 'second']);
      await waitUntil(async () => (await a.queue.stats()).active === 0, 2000);
      expect(await redis.keys(`${q}:sent:*`)).toHaveLength(2);
    });
  });
}
