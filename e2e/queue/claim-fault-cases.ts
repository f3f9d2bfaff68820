/**
 * Faults of the line claim and of the add, from e2e/queue.test.ts, on the shared real Redis: a
 * claim whose reply is lost (Redis paused past the client's timeout) is undone at once; the claim
 * reads the account's cooldown and sign-in in its own step; an add whose reply is lost (the
 * connection cut right after Redis ran it) leaves a job that never sends for nobody.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { describe, expect, inject, it } from 'vitest';
import { AppError, ServiceUnavailableError } from '../../src/errors.ts';
import { createCommandRedis, queueNames, type QueueJobData } from '../../src/queue/index.ts';
import { claimLine } from '../../src/queue/line-claim.ts';
import { lineKeys, sharedAccountKeys } from '../../src/queue/line-entry.ts';
import {
  abandonUnadded,
  abandonedKeyOf,
  sentMark,
  withUpstreamSent,
} from '../../src/queue/sent-mark.ts';
import { startReplyCutter } from './reply-cutter.ts';
import {
  cleanups,
  collect,
  heldGenerate,
  jobMarksOn,
  job,
  makeQueue,
  openAccount,
  recordingGenerate,
  recordingLogger,
  sweepAfterTest,
  waitUntil,
} from './support.ts';

const ACCOUNT = 'burst@example.com';

/** A plain connection to the shared Redis, for the test's own reads and faults. */
async function control() {
  const redis = createCommandRedis(inject('redisUrl'));
  cleanups.push(() => redis.disconnect());
  await waitUntil(() => redis.status === 'ready');
  return redis;
}

/** Defines the cases (each opens its own queues under a fresh prefix). */
export function claimFaultCases(): void {
  describe('ChatQueue: lost replies and the line claim', () => {
    it('a claim whose reply is lost is undone at once: the line is free, nothing was sent', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = recordingGenerate(5);
      const redis = await control();
      sweepAfterTest(redis, prefix);
      // The waiting process gives Redis 200 ms per command; the other one the default.
      const { logger, lines } = recordingLogger();
      const a = await makeQueue(prefix, upstream.generate, { commandTimeoutMs: 200, logger });
      const b = await makeQueue(prefix, upstream.generate);
      const lockKeys = () => redis.keys(`${prefix}:${a.queue.names.queue}:*:lock`);
      // Redis takes the claim but answers only after the client gave up on it.
      await redis.call('CLIENT', 'PAUSE', '700', 'ALL');
      const lost = await collect(a.queue.stream(job('lost'), new AbortController().signal));
      expect(lost.error).toBeInstanceOf(AppError);
      expect(lost.error).toMatchObject({
        status: 503,
        code: 'queue_unavailable',
        upstreamSent: false,
      });
      await redis.ping(); // answered once the pause is over, so the claim has run by now
      // Undone by the claim's own connection right after it ran, not 30-60 s later by the
      // stalled checker: no job holds the line and the next request runs at once.
      await waitUntil(async () => (await a.queue.stats()).active === 0, 1500);
      // The claim did run (made its job active) and its undo took it back, by the claim's token.
      const undone = () =>
        lines().filter((l) => l['message'] === 'undid a line claim whose reply was lost');
      await waitUntil(() => undone().length > 0, 1500);
      expect(undone()).toEqual([expect.objectContaining({ level: 'warn' })]);
      expect(await lockKeys()).toEqual([]);
      expect(await redis.zcard(a.queue.names.slots)).toBe(0);
      expect(await collect(b.queue.stream(job('next'), new AbortController().signal))).toEqual({
        text: 'echo:next',
        error: undefined,
      });
      expect(upstream.requests.map((r) => r.prompt)).toEqual(['next']);
    });

    it("the claim reads the account's cooldown and sign-in in its own step", async () => {
      const prefix = `t-${randomUUID()}`;
      const redis = await control();
      sweepAfterTest(redis, prefix);
      const names = queueNames(prefix, ACCOUNT);
      const queue = new Queue<QueueJobData>(names.queue, { connection: redis, prefix });
      cleanups.push(() => queue.close());
      await queue.setGlobalConcurrency(1);
      // Two processes of one account: `writer` changes its state, `claimer`'s fast path reads it
      // through the key its AccountState names (the one a ChatQueue's claim is given).
      const { account: writer } = await openAccount(prefix);
      const { account: claimer } = await openAccount(prefix);
      expect(claimer.sharedRecordKey).toEqual(expect.any(String));
      const claim = (id: string) =>
        claimLine(redis, lineKeys(queue, names, sharedAccountKeys(claimer), id), {
          id,
          maxSlots: 10,
          slotTtlMs: 60_000,
          runHere: {
            token: `local:${id}`,
            lockMs: 30_000,
            name: 'chat',
            data: '{}',
            opts: '{}',
            sentTtlMs: null,
            probe: { token: `probe:${id}`, ttlMs: 60_000 },
          },
        });
      // Written by another process after this one's admission read it: the line stays in BullMQ,
      // where the worker's own admit() refuses the job; nothing is made active here.
      await writer.coolDown('quota');
      expect(await claim('cooling')).toEqual({ claim: 'queued', account: null });
      await writer.reset();
      await writer.markLoginRequired();
      expect(await claim('signed-out')).toEqual({ claim: 'queued', account: null });
      expect(await redis.llen(queue.keys['active']!)).toBe(0);
      expect(await redis.exists(queue.toKey('cooling'), queue.toKey('signed-out'))).toBe(0);
      // Half-open (the cooldown's end passed) while another process probes: the line stays in
      // BullMQ, where admit() answers 429 "probing".
      await writer.reset();
      await writer.coolDown('transient', undefined, 50);
      await sleep(100);
      const probeKey = claimer.sharedProbe!.key;
      await redis.set(probeKey, 'elsewhere', 'PX', 60_000);
      expect(await claim('probed-elsewhere')).toEqual({ claim: 'queued', account: null });
      expect(await redis.get(probeKey)).toBe('elsewhere');
      // Nobody probes: the claim takes the idle line and the probe lock in the same step, and its
      // read of the record is the admission: this request is the probe.
      await redis.del(probeKey);
      const half = await claim('half-open');
      expect(half.claim).toBe('running');
      expect(half.account?.probeToken).toBe('probe:half-open');
      expect(await redis.get(probeKey)).toBe('probe:half-open');
      expect(await redis.lrange(queue.keys['active']!, 0, -1)).toEqual(['half-open']);
      expect(await claimer.admitRead(half.account!)).toEqual({
        probe: true,
        token: 'probe:half-open',
      });
      expect(claimer.snapshot()).toMatchObject({ phase: 'half_open', probing: true });
    });

    it('an add whose reply is lost leaves a job that never sends; the client may fail over', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = heldGenerate();
      const cutter = await startReplyCutter(inject('redisUrl'));
      cleanups.push(() => cutter.close());
      // This process only waits (its job goes through BullMQ's add); the other runs the jobs.
      const waiting = await makeQueue(
        prefix,
        upstream.generate,
        { redisUrl: cutter.url, commandTimeoutMs: 1000 },
        false,
      );
      const running = await makeQueue(prefix, upstream.generate);
      const first = collect(running.queue.stream(job('first'), new AbortController().signal));
      await waitUntil(() => upstream.calls.length === 1);
      // Redis runs the add; its reply is lost with the connection.
      cutter.arm('abandoned prompt');
      const lost = await collect(
        waiting.queue.stream(job('abandoned prompt'), new AbortController().signal),
      );
      await cutter.cut;
      expect(lost.error).toMatchObject({
        status: 503,
        code: 'queue_unavailable',
        upstreamSent: false,
      });
      // The job is in BullMQ all the same, behind the first.
      expect((await running.queue.stats()).waiting).toBe(1);
      upstream.calls[0]?.release();
      expect(await first).toEqual({ text: 'held:first', error: undefined });
      // Its turn came and it was dropped without a send; the line serves the next one.
      const idle = async () => {
        const s = await running.queue.stats();
        return s.waiting === 0 && s.active === 0;
      };
      await waitUntil(async () => upstream.calls.length > 1 || (await idle()));
      expect(upstream.calls.map((c) => c.prompt)).toEqual(['first']);
      const next = collect(running.queue.stream(job('next'), new AbortController().signal));
      await waitUntil(() => upstream.calls.length === 2);
      upstream.calls[1]?.release();
      expect(await next).toEqual({ text: 'held:next', error: undefined });
      expect(upstream.calls.map((c) => c.prompt)).toEqual(['first', 'next']);
    });

    it('a failed add and its job settle who goes first in Redis: the mark or the abandon', async () => {
      const redis = await control();
      const key = (name: string) => `t-${randomUUID()}:sent:${name}`;
      const marks = (sentKey: string) => jobMarksOn(redis, sentKey);
      const lost = new Error('Command timed out');
      // The job was marked sent before the abandon landed: the client hears it may have gone up.
      const sent = key('sent');
      await sentMark(redis, sent, 60_000).mark();
      expect(await abandonUnadded(marks(sent), lost)).toBe(true);
      // The abandon landed first: the job refuses to send, and to upload before it.
      const dropped = key('dropped');
      expect(await abandonUnadded(marks(dropped), lost)).toBe(false);
      const refused = { status: 503, code: 'request_abandoned', upstreamSent: false };
      await expect(sentMark(redis, dropped, 60_000).assertUnsent()).rejects.toMatchObject(refused);
      await expect(sentMark(redis, dropped, 60_000).mark()).rejects.toMatchObject(refused);
      expect(await redis.exists(dropped)).toBe(0);
      // An add ioredis never wrote (no connection) needs no abandon: nothing can run.
      const unsent = key('unsent');
      const neverLeft = new Error("Stream isn't writeable and enableOfflineQueue options is false");
      expect(await abandonUnadded(marks(unsent), neverLeft)).toBe(false);
      expect(await redis.exists(abandonedKeyOf(unsent))).toBe(0);
    });

    it('a waiter that gives up on a job that may still run abandons it before it answers', async () => {
      const redis = await control();
      const key = `t-${randomUUID()}:sent:job`;
      const lost = () => new ServiceUnavailableError('The queue (Redis) is unavailable.', 5);
      // Removed or never added: known gone, nothing to write.
      const gone = await withUpstreamSent(
        lost(),
        { started: false, finished: true },
        jobMarksOn(redis, key),
      );
      expect(gone).toMatchObject({ status: 503, upstreamSent: false });
      expect(await redis.exists(abandonedKeyOf(key))).toBe(0);
      // Perhaps still waiting or running unmarked: "not sent" holds, as the job can no longer send.
      const open = await withUpstreamSent(
        lost(),
        { started: true, finished: false },
        jobMarksOn(redis, key),
      );
      expect(open).toMatchObject({ status: 503, upstreamSent: false });
      await expect(sentMark(redis, key, 60_000).mark()).rejects.toMatchObject({
        code: 'request_abandoned',
      });
      // Marked before the waiter gave up: it may have gone up.
      const marked = `t-${randomUUID()}:sent:job`;
      await sentMark(redis, marked, 60_000).mark();
      const sent = await withUpstreamSent(
        lost(),
        { started: true, finished: false },
        jobMarksOn(redis, marked),
      );
      expect(sent).toMatchObject({ status: 503, upstreamSent: true });
    });

    it('a job older than any wait for it is dropped when its turn comes, without a send', async () => {
      const prefix = `t-${randomUUID()}`;
      const upstream = recordingGenerate(5);
      const redis = await control();
      sweepAfterTest(redis, prefix); // the old job ends completed, kept (no removeOnComplete)
      const { queue: chat } = await makeQueue(prefix, upstream.generate, {
        queue: { waitMs: 1000, maxLength: 20 },
      });
      // Left behind by a waiter that gave up 1 s after adding it and could not remove it or mark
      // it abandoned (Redis away for it), added a minute ago by its own clock.
      const bull = new Queue<QueueJobData>(chat.names.queue, { connection: redis, prefix });
      cleanups.push(() => bull.close());
      const data = { job: job('left behind'), replyTo: `${prefix}:nobody` };
      await bull.add('chat', data, { jobId: randomUUID(), timestamp: Date.now() - 60_000 });
      // The next request queues behind it, so the old job's turn comes first.
      expect(await collect(chat.stream(job('next'), new AbortController().signal))).toEqual({
        text: 'echo:next',
        error: undefined,
      });
      expect(upstream.requests.map((r) => r.prompt)).toEqual(['next']);
    });
  });
}
