/**
 * The undo of a lost line claim and the abandon of a job, from e2e/queue.test.ts, on the shared
 * real Redis: releaseLine undoes only a live lock holding the claim's token, an undo that ran
 * before its claim leaves a tombstone the claim obeys, a half-open account's request is its probe
 * on the fast path, and a waiter's abandon outlasts a reconnect blip (and says when it gave up).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { describe, expect, inject, it } from 'vitest';
import { ServiceUnavailableError } from '../../src/errors.ts';
import { createCommandRedis, queueNames, type QueueJobData } from '../../src/queue/index.ts';
import { claimLine, releaseLine } from '../../src/queue/line-claim.ts';
import { lineKeys } from '../../src/queue/line-entry.ts';
import { abandonedKeyOf, withUpstreamSent } from '../../src/queue/sent-mark.ts';
import {
  cleanups,
  collect,
  job,
  jobMarksOn,
  makeQueue,
  recordingGenerate,
  recordingLogger,
  sweepAfterTest,
  waitUntil,
} from './support.ts';

/** A plain connection to the shared Redis, its test's keys deleted afterwards. */
async function control(prefix: string) {
  const redis = createCommandRedis(inject('redisUrl'));
  cleanups.push(() => redis.disconnect());
  await waitUntil(() => redis.status === 'ready');
  sweepAfterTest(redis, prefix);
  return redis;
}

/** One account's line under a fresh prefix, claimed and released by hand. */
async function line(account = '') {
  const prefix = `t-${randomUUID()}`;
  const redis = await control(prefix);
  const names = queueNames(prefix, 'burst@example.com');
  const queue = new Queue<QueueJobData>(names.queue, { connection: redis, prefix });
  cleanups.push(() => queue.close());
  await queue.setGlobalConcurrency(1);
  const shared = account
    ? { record: `${prefix}:${account}`, probe: `${prefix}:${account}:probe` }
    : { record: '', probe: '' };
  const keys = (id: string) => lineKeys(queue, names, shared, id);
  const claim = async (id: string, lockMs = 30_000, probeToken = '') =>
    (
      await claimLine(redis, keys(id), {
        id,
        maxSlots: 10,
        slotTtlMs: 60_000,
        runHere: {
          token: `local:${id}`,
          lockMs,
          name: 'chat',
          data: '{}',
          opts: '{}',
          sentTtlMs: 60_000,
          probe: probeToken ? { token: probeToken, ttlMs: 60_000 } : null,
        },
      })
    ).claim;
  const active = () => redis.lrange(queue.keys['active']!, 0, -1);
  return { redis, keys, claim, active, shared };
}

/** Defines the cases (each opens its own queues under a fresh prefix). */
export function claimUndoCases(): void {
  describe('ChatQueue: undoing a lost claim, abandoning a job', () => {
    it("releaseLine undoes only a live lock that holds the claim's token", async () => {
      const { redis, keys, claim, active } = await line();
      const undo = (token: string) => ({ token, tombstoneMs: 30_000 });
      expect(await claim('held')).toBe('running');
      // Another token (another process's claim, or BullMQ's own worker): left alone.
      expect(await releaseLine(redis, keys('held'), 'held', undo('local:other'))).toBe('slot');
      expect(await active()).toEqual(['held']);
      expect(await redis.get(`${keys('held').job}:lock`)).toBe('local:held');
      expect(await redis.exists(keys('held').job, keys('held').sent)).toBe(2);
      // The claim's own token: undone, the line free.
      expect(await releaseLine(redis, keys('held'), 'held', undo('local:held'))).toBe('undone');
      expect(await active()).toEqual([]);
      expect(await redis.exists(keys('held').job, `${keys('held').job}:lock`)).toBe(0);
      // A lock that ran out: the stalled checker owns the job now; the undo leaves it alone.
      expect(await claim('expired', 50)).toBe('running');
      await sleep(100);
      expect(await releaseLine(redis, keys('expired'), 'expired', undo('local:expired'))).toBe(
        'slot',
      );
      expect(await active()).toEqual(['expired']);
      expect(await redis.exists(keys('expired').job)).toBe(1);
      // A retried undo whose first reply was lost answers what the first one did.
      expect(await releaseLine(redis, keys('held'), 'held', undo('local:held'))).toBe('undone');
      expect(await releaseLine(redis, keys('expired'), 'expired', undo('local:x'))).toBe('slot');
    });

    it('an undo that runs before its claim (a dropped socket) makes the claim write nothing', async () => {
      const { redis, keys, claim, active } = await line();
      const undo = { token: 'local:late', tombstoneMs: 30_000 };
      expect(await releaseLine(redis, keys('late'), 'late', undo)).toBe('none');
      const ttl = await redis.pttl(keys('late').undone);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30_000);
      // The claim arrives after its undo: refused before it takes a slot or the line.
      await expect(claim('late')).rejects.toThrow(/undone before Redis ran it/);
      expect(await active()).toEqual([]);
      expect(await redis.zcard(keys('late').slots)).toBe(0);
      expect(await redis.exists(keys('late').job, `${keys('late').job}:lock`)).toBe(0);
      // Another request takes the idle line at once.
      expect(await claim('next')).toBe('running');
      expect(await active()).toEqual(['next']);
    });

    it('the undo of a half-open claim frees the probe lock it took, and no other', async () => {
      const { redis, keys, claim, active, shared } = await line('acct');
      const ended = { cooldown_until: String(Date.now() - 1000), cooldown_reason: 'transient' };
      await redis.hset(shared.record, ended);
      expect(await claim('half', 30_000, 'probe:half')).toBe('running');
      expect(await redis.get(shared.probe)).toBe('probe:half');
      const undo = { token: 'local:half', tombstoneMs: 30_000 };
      // Another claim's tokens: neither the line nor the lock is this undo's to free.
      const other = { ...undo, token: 'local:x', probeToken: 'probe:x' };
      expect(await releaseLine(redis, keys('half'), 'half', other)).toBe('slot');
      expect(await redis.get(shared.probe)).toBe('probe:half');
      const own = { ...undo, probeToken: 'probe:half' };
      expect(await releaseLine(redis, keys('half'), 'half', own)).toBe('undone');
      expect(await active()).toEqual([]);
      // Else the account would answer 429 "probing" until the lock ran out (minutes).
      expect(await redis.exists(shared.probe)).toBe(0);
    });

    it("a request after a cooldown's end is the probe on the fast path: no 429, one probe", async () => {
      const prefix = `t-${randomUUID()}`;
      await control(prefix);
      const upstream = recordingGenerate(5);
      const { logger, lines } = recordingLogger();
      const { queue, account } = await makeQueue(prefix, upstream.generate, { logger });
      await account.coolDown('transient', undefined, 100);
      await sleep(150);
      // Still stored (only a probe's success clears it): the claim compares its end with now.
      expect(account.snapshot().cooldown).not.toBeNull();
      expect(await collect(queue.stream(job('probe'), new AbortController().signal))).toEqual({
        text: 'echo:probe',
        error: undefined,
      });
      // The admission beside the claim took the probe and the job ran with it: not handed back
      // and taken again by a BullMQ worker (which could meet the lock and answer 429).
      const probes = lines().filter((l) => l['message'] === 'cooldown ended; probing the account');
      expect(probes).toHaveLength(1);
      await waitUntil(() => account.snapshot().cooldown === null); // the probe's success
      expect(await collect(queue.stream(job('after'), new AbortController().signal))).toEqual({
        text: 'echo:after',
        error: undefined,
      });
      expect(upstream.requests.map((r) => r.prompt)).toEqual(['probe', 'after']);
    });

    it("a waiter's abandon waits out a reconnect blip instead of answering 'may have been sent'", async () => {
      const prefix = `t-${randomUUID()}`;
      await control(prefix);
      const blip = createCommandRedis(inject('redisUrl'));
      cleanups.push(() => blip.disconnect());
      await waitUntil(() => blip.status === 'ready');
      blip.disconnect(true); // drops the socket and reconnects: commands are refused meanwhile
      await waitUntil(() => blip.status !== 'ready');
      const key = `${prefix}:sent:blip`;
      const lost = new ServiceUnavailableError('The queue (Redis) is unavailable.', 5);
      const waiter = { started: true, finished: false };
      const answer = await withUpstreamSent(lost, waiter, jobMarksOn(blip, key));
      expect(answer).toMatchObject({ status: 503, upstreamSent: false });
      expect(await blip.exists(abandonedKeyOf(key))).toBe(1);
    });

    it('an abandon that cannot reach Redis says so in a warning naming the job', async () => {
      const prefix = `t-${randomUUID()}`;
      const dead = createCommandRedis('redis://127.0.0.1:1', { connectTimeoutMs: 200 });
      cleanups.push(() => dead.disconnect());
      const { logger, lines } = recordingLogger();
      const key = `${prefix}:sent:unreachable`;
      const lost = new ServiceUnavailableError('The queue (Redis) is unavailable.', 5);
      const waiter = { started: true, finished: false };
      const answer = await withUpstreamSent(lost, waiter, jobMarksOn(dead, key, logger));
      expect(answer).toMatchObject({ status: 503, upstreamSent: true });
      expect(lines()).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'could not mark a job abandoned',
          jobId: 'unreachable',
        }),
      );
    });
  });
}
