/**
 * The end of a job run in process, from e2e/queue.test.ts, on the shared real Redis: its last
 * reply goes out before BullMQ writes its end, yet the next turn in the same process still finds
 * the line free (it claims behind the end). That a job queued meanwhile by another process starts
 * when it ends is in e2e/queue.test.ts (the idle line's case).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createCommandRedis } from '../../src/queue/index.ts';
import {
  cleanups,
  collect,
  job,
  makeQueue,
  recordingGenerate,
  sweepAfterTest,
  waitUntil,
} from './support.ts';

/** The names of the events BullMQ streamed for the queue `queueName` under `prefix`. */
async function streamedEvents(prefix: string, queueName: string): Promise<string[]> {
  const redis = createCommandRedis(inject('redisUrl'));
  cleanups.push(() => redis.disconnect());
  await waitUntil(() => redis.status === 'ready');
  sweepAfterTest(redis, prefix);
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
  });
}
