/**
 * ChatQueue against the shared real Redis: serialization across two queue instances (two
 * "processes" in one), cancellation, wait limits, the length limit, timeouts and errors crossing
 * Redis. The upstream is a fake Generate: it stands in for Google, not for our code. The faults of
 * the line claim and the add (lost replies) are in e2e/queue/claim-fault-cases.ts, the undo and
 * the abandon in e2e/queue/claim-undo-cases.ts, the end of a job run in process in
 * e2e/queue/claim-local-cases.ts.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Generate } from '../src/account/index.ts';
import { AppError } from '../src/errors.ts';
import { GeminiError } from '../src/gemini/index.ts';
import { createCommandRedis } from '../src/queue/index.ts';
import { CancelRegistry } from '../src/queue/cancel-registry.ts';
import { createProcessor } from '../src/queue/job-processor.ts';
import { decodeReply, queueNames, type ChatJobData, type ReplyMessage } from '../src/queue/wire.ts';
import { createLogger } from '../src/logging.ts';
import type { Job } from 'bullmq';
import { claimFaultCases } from './queue/claim-fault-cases.ts';
import { claimLocalCases } from './queue/claim-local-cases.ts';
import { claimUndoCases } from './queue/claim-undo-cases.ts';
import {
  cleanups,
  collect,
  done,
  heldGenerate,
  job,
  makeQueue,
  openAccount,
  recordingGenerate,
  runCleanups,
  waitUntil,
} from './queue/support.ts';

afterEach(runCleanups);

describe('ChatQueue: one account, one line', () => {
  it('serializes a burst of 10 across two instances: no overlap, each exactly once', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = recordingGenerate(30);
    const a = await makeQueue(prefix, upstream.generate);
    const b = await makeQueue(prefix, upstream.generate);
    const prompts = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const results = await Promise.all(
      prompts.map((p, i) =>
        collect((i % 2 ? a : b).queue.stream(job(p), new AbortController().signal)),
      ),
    );
    expect(results.map((r) => r.error)).toEqual(prompts.map(() => undefined));
    expect(results.map((r) => r.text)).toEqual(prompts.map((p) => `echo:${p}`));
    expect(upstream.maxRunning()).toBe(1);
    expect(upstream.requests.map((r) => r.prompt).sort()).toEqual([...prompts].sort());
    for (let i = 0; i < upstream.log.length; i += 2) {
      expect(upstream.log[i]?.replace('start:', '')).toBe(upstream.log[i + 1]?.replace('end:', ''));
    }
    // BullMQ records a job's end just after its last reply reaches the stream: nothing stays.
    await waitUntil(async () => (await a.queue.stats()).active === 0, 2000);
    expect(await a.queue.stats()).toEqual({ waiting: 0, active: 0 });
  });

  it('removes a waiting job when its client leaves; it never reaches upstream', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const { queue } = await makeQueue(prefix, upstream.generate);
    const first = collect(queue.stream(job('first'), new AbortController().signal));
    await waitUntil(() => upstream.calls.length === 1);
    const leaving = new AbortController();
    const second = collect(queue.stream(job('second'), leaving.signal));
    await waitUntil(async () => (await queue.stats()).waiting === 1);
    leaving.abort(new Error('client closed'));
    expect((await second).error).toMatchObject({ message: 'client closed' });
    expect((await queue.stats()).waiting).toBe(0);
    upstream.calls[0]?.release();
    expect((await first).text).toBe('held:first');
    await sleep(200);
    expect(upstream.calls.map((c) => c.prompt)).toEqual(['first']);
  });

  it('aborts the upstream call of a running job when its client leaves', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const { queue } = await makeQueue(prefix, upstream.generate);
    const leaving = new AbortController();
    const stream = queue.stream(job('run'), leaving.signal);
    const first = await stream.next();
    expect(first.value).toEqual({ type: 'text', delta: 'held:run' });
    const signal = upstream.calls[0]?.signal;
    expect(signal?.aborted).toBe(false);
    leaving.abort(new Error('client closed'));
    await expect(stream.next()).rejects.toMatchObject({ message: 'client closed' });
    await waitUntil(() => signal?.aborted === true);
    await waitUntil(async () => (await queue.stats()).active === 0);
  });

  it('a wait past waitMs gets 503 with Retry-After, and the job is removed', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const { queue } = await makeQueue(prefix, upstream.generate, {
      queue: { waitMs: 400, maxLength: 20 },
    });
    const first = collect(queue.stream(job('first'), new AbortController().signal));
    await waitUntil(() => upstream.calls.length === 1);
    const late = await collect(queue.stream(job('late'), new AbortController().signal));
    expect(late.error).toBeInstanceOf(AppError);
    expect(late.error).toMatchObject({ status: 503, code: 'queue_wait_timeout', retryAfterS: 10 });
    expect((await queue.stats()).waiting).toBe(0);
    upstream.calls[0]?.release();
    await first;
    expect(upstream.calls).toHaveLength(1);
  });

  it('waiting + active at maxLength gets 429 at once', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const { queue } = await makeQueue(prefix, upstream.generate, {
      queue: { waitMs: 30_000, maxLength: 2 },
    });
    const first = collect(queue.stream(job('1'), new AbortController().signal));
    await waitUntil(() => upstream.calls.length === 1);
    const second = collect(queue.stream(job('2'), new AbortController().signal));
    await waitUntil(async () => (await queue.stats()).waiting === 1);
    const third = await collect(queue.stream(job('3'), new AbortController().signal));
    expect(third.error).toMatchObject({ status: 429, code: 'queue_full' });
    expect((third.error as AppError).retryAfterS).toBeGreaterThan(0);
    upstream.calls[0]?.release();
    await waitUntil(() => upstream.calls.length === 2);
    upstream.calls[1]?.release();
    expect((await first).error).toBeUndefined();
    expect((await second).error).toBeUndefined();
  });

  it('stops a job at requestTimeoutMs with 504 and aborts upstream', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const { queue } = await makeQueue(prefix, upstream.generate, { requestTimeoutMs: 500 });
    const r = await collect(queue.stream(job('slow'), new AbortController().signal));
    expect(r.text).toBe('held:slow');
    expect(r.error).toMatchObject({ status: 504, type: 'timeout' });
    expect(upstream.calls[0]?.signal?.aborted).toBe(true);
  });

  it('carries classified errors across Redis with status, code, param and Retry-After', async () => {
    const prefix = `t-${randomUUID()}`;
    let kind: 'model' | 'quota' = 'model';
    // eslint-disable-next-line require-yield
    const generate: Generate = async function* (req) {
      await req.gate?.ready?.();
      throw new GeminiError(kind, `upstream ${kind}`);
    };
    const { queue, account } = await makeQueue(prefix, generate);
    const model = await collect(queue.stream(job('m'), new AbortController().signal));
    expect(model.error).toMatchObject({
      status: 400,
      code: 'model_not_supported',
      param: 'model',
      name: 'GeminiError',
    });
    kind = 'quota';
    const quota = await collect(queue.stream(job('q'), new AbortController().signal));
    expect(quota.error).toMatchObject({ status: 429, code: 'usage_limit', retryAfterS: 60 });
    expect(account.snapshot().phase).toBe('cooling');
  });

  it('the queue limit is atomic: 200 at once across two instances, exactly N accepted', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const limit = 7;
    const over = { queue: { waitMs: 30_000, maxLength: limit } };
    const a = await makeQueue(prefix, upstream.generate, over);
    const b = await makeQueue(prefix, upstream.generate, over);
    const settled: { error: unknown }[] = [];
    const all = Array.from({ length: 200 }, (_, i) =>
      collect((i % 2 ? a : b).queue.stream(job(`burst ${i}`), new AbortController().signal)).then(
        (r) => {
          settled.push(r);
          return r;
        },
      ),
    );
    // Every refusal comes while the accepted ones are still held: at once, not after a wait.
    await waitUntil(() => settled.length === 200 - limit, 20_000);
    expect(settled.every((r) => (r.error as AppError | undefined)?.code === 'queue_full')).toBe(
      true,
    );
    expect(settled.every((r) => (r.error as AppError).status === 429)).toBe(true);
    for (let served = 0; served < limit; served += 1) {
      await waitUntil(() => upstream.calls.length === served + 1);
      upstream.calls[served]?.release();
    }
    const results = await Promise.all(all);
    expect(results.filter((r) => r.error === undefined)).toHaveLength(limit);
    expect(upstream.calls).toHaveLength(limit);
    // Every slot came back: the next request is accepted.
    const next = collect(a.queue.stream(job('after'), new AbortController().signal));
    await waitUntil(() => upstream.calls.length === limit + 1);
    upstream.calls[limit]?.release();
    expect((await next).error).toBeUndefined();
  });

  it("an idle line runs the job in its own process as BullMQ's locked active job; others wait", async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = heldGenerate();
    const a = await makeQueue(prefix, upstream.generate);
    const b = await makeQueue(prefix, upstream.generate);
    const first = collect(a.queue.stream(job('first'), new AbortController().signal));
    await waitUntil(() => upstream.calls.length === 1);
    // Claimed straight into BullMQ's active list with this process's lock (the fast path).
    const redis = createCommandRedis(inject('redisUrl'));
    cleanups.push(() => redis.disconnect());
    await waitUntil(() => redis.status === 'ready');
    const locks = await redis.keys(`${prefix}:${a.queue.names.queue}:*:lock`);
    expect(locks).toHaveLength(1);
    expect(await redis.get(locks[0]!)).toMatch(/^local:/);
    expect(await a.queue.stats()).toEqual({ waiting: 0, active: 1 });
    // The other process finds the line taken: its job waits in BullMQ until the first ends.
    const second = collect(b.queue.stream(job('second'), new AbortController().signal));
    await waitUntil(async () => (await b.queue.stats()).waiting === 1);
    await sleep(100);
    expect(upstream.calls).toHaveLength(1);
    upstream.calls[0]?.release();
    expect(await first).toEqual({ text: 'held:first', error: undefined });
    // It starts when the first ends: BullMQ's end of a job it did not fetch wakes no worker, the
    // slot release does (without it the other worker would sleep through its 5 s drain delay).
    await waitUntil(() => upstream.calls.length === 2, 2000);
    expect(upstream.calls[1]?.prompt).toBe('second');
    upstream.calls[1]?.release();
    expect(await second).toEqual({ text: 'held:second', error: undefined });
    await waitUntil(async () => (await a.queue.stats()).active === 0, 2000);
    expect(await redis.keys(`${prefix}:${a.queue.names.queue}:*:lock`)).toEqual([]);
  });

  it('two processes racing for an idle line, round after round, never both run', async () => {
    const prefix = `t-${randomUUID()}`;
    const upstream = recordingGenerate(3);
    const a = await makeQueue(prefix, upstream.generate);
    const b = await makeQueue(prefix, upstream.generate);
    const prompts: string[] = [];
    for (let round = 0; round < 25; round += 1) {
      const pair = [`a${round}`, `b${round}`];
      prompts.push(...pair);
      const results = await Promise.all([
        collect(a.queue.stream(job(pair[0]!), new AbortController().signal)),
        collect(b.queue.stream(job(pair[1]!), new AbortController().signal)),
      ]);
      expect(results).toEqual(pair.map((p) => ({ text: `echo:${p}`, error: undefined })));
    }
    expect(upstream.maxRunning()).toBe(1);
    expect(upstream.requests.map((r) => r.prompt).sort()).toEqual([...prompts].sort());
    await waitUntil(async () => (await a.queue.stats()).active === 0, 2000);
    expect(await a.queue.stats()).toEqual({ waiting: 0, active: 0 });
  });

  it('a job run a second time finds its "sent" mark and never sends again', async () => {
    const prefix = `t-${randomUUID()}`;
    const { account, redis } = await openAccount(prefix);
    // Opens and closes the send gate around each call, as the Gemini client does.
    const prompts: string[] = [];
    const generate: Generate = async function* (req) {
      await req.gate?.open();
      prompts.push(req.prompt);
      yield { type: 'text', delta: 'once' };
      req.gate?.close('accepted');
      yield done('once');
    };
    const published: ReplyMessage[] = [];
    const publisher = Object.create(redis) as typeof redis;
    publisher.publish = async (_channel: string, raw: string) => {
      published.push(decodeReply(raw) as ReplyMessage);
      return 1;
    };
    const names = queueNames(prefix, 'burst@example.com');
    const processor = createProcessor({
      publisher,
      guard: { account, generate },
      cancels: new CancelRegistry(),
      requestTimeoutMs: 5000,
      logger: createLogger({ silent: true }),
      sentKey: (jobId) => names.sent(jobId),
    });
    const data: ChatJobData = { job: job('once only'), replyTo: 'reply' };
    const id = randomUUID();
    await processor({ id, data } as Job<ChatJobData>);
    expect(published.at(-1)?.t).toBe('end');
    expect(await redis.exists(names.sent(id))).toBe(1);
    await processor({ id, data } as Job<ChatJobData>);
    expect(prompts).toEqual(['once only']);
    expect(published.at(-1)).toMatchObject({
      t: 'error',
      error: { status: 502, code: 'upstream_outcome_unknown', upstreamSent: true },
    });
  });
});

claimFaultCases();
claimUndoCases();
claimLocalCases();
