/**
 * Redis goes away during traffic and comes back (empty: it runs without persistence, as a
 * flushed or replaced Redis would): while it is down the queue is not ready and requests fail fast
 * with 503 (a request in flight ends with an error instead of hanging); once it is back,
 * requests are served again without a restart, still one at a time, and a cooldown is written
 * back into the new, empty Redis.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccountState, type ChatJob, type Generate } from '../src/account/index.ts';
import { AppError } from '../src/errors.ts';
import type { GenerateEvent } from '../src/gemini/index.ts';
import { ChatQueue, createCommandRedis } from '../src/queue/index.ts';
import { startRedis, tempDir, type ServiceHandle } from './support/services.ts';

let redis: ServiceHandle;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const job = (prompt: string): ChatJob => ({
  requestId: prompt,
  model: { name: 'gemini-2.5-flash', header: null, thinking: false },
  prompt,
  inputs: [],
  chat: null,
  replayPrompt: null,
});

async function waitUntil(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(50);
  }
}

async function ask(queue: ChatQueue, prompt: string): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const e of queue.stream(job(prompt), new AbortController().signal)) {
      text += e.type === 'text' ? e.delta : '';
    }
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

/** An upstream stand-in that counts how many calls run at once. */
function countingUpstream() {
  const state = { running: 0, maxRunning: 0 };
  const generate: Generate = async function* (req) {
    await req.gate?.ready?.(); // as the Gemini client: nothing upstream before the admission
    state.running += 1;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    try {
      await sleep(req.prompt === 'inflight' ? 1500 : 30);
      yield { type: 'text', delta: `echo:${req.prompt}` };
      const done: GenerateEvent = {
        type: 'done',
        result: { text: '', thoughts: '', images: [], chat: null, modelName: null },
      };
      yield done;
    } finally {
      state.running -= 1;
    }
  };
  return { generate, state };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
  if (!(await redisAnswers())) {
    await redis.start();
  }
});

async function redisAnswers(): Promise<boolean> {
  const probe = createCommandRedis(redis.url, { connectTimeoutMs: 500 });
  try {
    await waitUntil(() => probe.status === 'ready', 1000);
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * One AccountState and two ChatQueues (two "processes") on one account; `workers` says which of
 * them run jobs (both by default).
 */
async function node(generate: Generate, workers: readonly number[] = [0, 1]) {
  const prefix = `t-${randomUUID()}`;
  const dataDir = tempDir('redis-restart');
  const stateRedis = createCommandRedis(redis.url);
  const account = await AccountState.open({
    account: 'restart@example.com',
    dataDir,
    redis: stateRedis,
    keyPrefix: `${prefix}:`,
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
  });
  const queues = [0, 1].map(
    () =>
      new ChatQueue({
        account,
        redisUrl: redis.url,
        generate,
        prefix,
        queue: { waitMs: 10_000, maxLength: 50 },
        requestTimeoutMs: 10_000,
      }),
  );
  cleanups.push(async () => {
    await Promise.all(queues.map((q) => q.close()));
    await account.close();
    stateRedis.disconnect();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  await waitUntil(() => queues.every((q) => q.ready()));
  await Promise.all(queues.filter((_q, i) => workers.includes(i)).map((q) => q.start()));
  return { queues: queues as [ChatQueue, ChatQueue], account, stateRedis, prefix };
}

const hung = (ms: number) => sleep(ms).then(() => ({ text: '', error: new Error('hung') }));

describe('Redis restarted during traffic', () => {
  it('while down: not ready, a request in flight ends with 503, new ones fail fast', async () => {
    const up = countingUpstream();
    // Jobs run only in the first process: the in-flight request waits in the second, so its
    // replies can only come over Redis.
    const { queues } = await node(up.generate, [0]);
    expect((await ask(queues[1], 'before')).text).toBe('echo:before');

    const inflight = ask(queues[1], 'inflight');
    await waitUntil(() => up.state.running === 1);
    await redis.stop();
    await waitUntil(() => queues.every((q) => !q.ready()));
    expect((await Promise.race([inflight, hung(15_000)])).error).toMatchObject({ status: 503 });

    const down = await Promise.race([ask(queues[0], 'while-down'), hung(5000)]);
    expect(down.error).toBeInstanceOf(AppError);
    expect(down.error).toMatchObject({ status: 503, code: 'queue_unavailable', retryAfterS: 5 });

    // Shutting down while Redis is away does not hang either.
    const closing = Promise.all(queues.map((q) => q.close())).then(() => ({
      text: '',
      error: null,
    }));
    expect((await Promise.race([closing, hung(5000)])).error).toBeNull();
  });

  it('while down: a job running in the process that waits for it still delivers its answer', async () => {
    const up = countingUpstream();
    const { queues } = await node(up.generate, [0]);
    // The answer of a prompt already sent is not thrown away: it never needed Redis to arrive.
    const inflight = ask(queues[0], 'inflight');
    await waitUntil(() => up.state.running === 1);
    await redis.stop();
    await waitUntil(() => queues.every((q) => !q.ready()));
    expect(await Promise.race([inflight, hung(15_000)])).toEqual({
      text: 'echo:inflight',
      error: undefined,
    });
  });

  it('after it returns (empty): serves again without a restart, still one at a time', async () => {
    const up = countingUpstream();
    const { queues } = await node(up.generate);
    await redis.stop();
    await waitUntil(() => queues.every((q) => !q.ready()));
    await redis.start();
    await waitUntil(() => queues.every((q) => q.ready()));
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ask(queues[i % 2] as ChatQueue, `after${i}`)),
    );
    expect(burst.map((r) => r.error)).toEqual(burst.map(() => undefined));
    expect(burst.map((r) => r.text)).toEqual(burst.map((_, i) => `echo:after${i}`));
    expect(up.state.maxRunning).toBe(1);
  });

  it('a cooldown is written back into the new, empty Redis', async () => {
    const up = countingUpstream();
    const { queues, account, stateRedis, prefix } = await node(up.generate);
    await account.coolDown('quota');
    await redis.stop();
    await redis.start();
    await waitUntil(() => queues.every((q) => q.ready()));
    await waitUntil(() => stateRedis.status === 'ready');
    await account.sync();
    const key = `${prefix}:account:restart@example.com`;
    expect(await stateRedis.hget(key, 'cooldown_reason')).toBe('quota');
    expect((await ask(queues[0], 'cooling')).error).toMatchObject({ status: 429 });
    expect(up.state.maxRunning).toBe(0);
  });
});
