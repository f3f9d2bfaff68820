/**
 * What the ChatQueue e2e cases share (e2e/queue.test.ts and its case modules here): jobs, fake
 * upstreams that stand in for Google (not for our code), accounts and queues on the shared real
 * Redis, each closed after its test by runCleanups().
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { AccountState, type ChatJob, type Generate } from '../../src/account/index.ts';
import type { GenerateEvent, GenerateRequest } from '../../src/gemini/index.ts';
import { createLogger, type Logger } from '../../src/logging.ts';
import { ChatQueue, createCommandRedis, type ChatQueueOptions } from '../../src/queue/index.ts';
import type { Redis } from 'ioredis';
import type { JobMarks } from '../../src/queue/sent-mark.ts';
import { tempDir } from '../support/services.ts';

export const MODEL = { name: 'gemini-2.5-flash', header: null, thinking: false };
export const COOLDOWN = { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 };

/** Closes what the test opened, last first (call it from afterEach). */
export const cleanups: (() => Promise<void> | void)[] = [];
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
}

export const job = (prompt: string): ChatJob => ({
  requestId: `req-${prompt}`,
  model: MODEL,
  prompt,
  inputs: [],
  chat: null,
  replayPrompt: null,
});

/** Records every upstream call; each answers `echo:<prompt>` after `delayMs`. */
export function recordingGenerate(delayMs: number) {
  const log: string[] = [];
  const requests: GenerateRequest[] = [];
  let running = 0;
  let maxRunning = 0;
  const generate: Generate = async function* (req) {
    await req.gate?.ready?.(); // as the Gemini client: nothing upstream before the admission
    requests.push(req);
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    log.push(`start:${req.prompt}`);
    try {
      await sleep(delayMs, undefined, req.signal ? { signal: req.signal } : {});
      yield { type: 'text', delta: `echo:${req.prompt}` };
      yield done(`echo:${req.prompt}`);
    } finally {
      running -= 1;
      log.push(`end:${req.prompt}`);
    }
  };
  return { generate, log, requests, maxRunning: () => maxRunning };
}

export function done(text: string): GenerateEvent {
  return { type: 'done', result: { text, thoughts: '', images: [], chat: null, modelName: null } };
}

/**
 * A Generate that holds each call open until released, and reports its signal. Like the Gemini
 * client, it opens the send gate (where the job's "sent" mark is written) before it sends; `calls`
 * are the calls that got through it, `made()` counts every call.
 */
export function heldGenerate() {
  const calls: { prompt: string; signal: AbortSignal | undefined; release: () => void }[] = [];
  let made = 0; // calls made, those the gate refused included
  const generate: Generate = async function* (req) {
    made += 1;
    await req.gate?.open();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    calls.push({ prompt: req.prompt, signal: req.signal, release });
    const aborted = new Promise<void>((_, reject) =>
      req.signal?.addEventListener('abort', () => reject(req.signal?.reason as Error)),
    );
    yield { type: 'text', delta: `held:${req.prompt}` };
    req.gate?.close('accepted');
    await Promise.race([released, aborted]);
    yield done(`held:${req.prompt}`);
  };
  return { generate, calls, made: () => made };
}

/** A logger that keeps every line it writes; `messages()` lists them in order. */
export function recordingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ stream }), lines: () => lines };
}

/** Deletes every key under `prefix` once the test ends (keys written without a TTL). */
export function sweepAfterTest(redis: Redis, prefix: string): void {
  cleanups.push(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) {
      await redis.unlink(...keys);
    }
  });
}

/** The marks of the job whose "sent" mark is `sentKey` (kept a minute), on `redis`. */
export function jobMarksOn(redis: Redis, sentKey: string, logger?: Logger): JobMarks {
  const quiet = logger ?? createLogger({ silent: true });
  return { redis, jobId: sentKey.split(':').pop()!, sentKey, ttlMs: 60_000, logger: quiet };
}

/** An account on the shared Redis under `prefix`, closed after the test. */
export async function openAccount(
  prefix: string,
  logger?: Logger,
): Promise<{ account: AccountState; redis: Redis }> {
  const redis = createCommandRedis(inject('redisUrl'));
  const dataDir = tempDir('queue');
  const account = await AccountState.open({
    account: 'burst@example.com',
    dataDir,
    cooldown: COOLDOWN,
    redis,
    keyPrefix: `${prefix}:`,
    ...(logger ? { logger } : {}),
  });
  cleanups.push(async () => {
    await account.close();
    redis.disconnect();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return { account, redis };
}

/** A ChatQueue (one "process") on the account under `prefix`; `runsJobs` false: it only waits. */
export async function makeQueue(
  prefix: string,
  generate: Generate,
  over: Partial<ChatQueueOptions> = {},
  runsJobs = true,
): Promise<{ queue: ChatQueue; account: AccountState }> {
  const redisUrl = inject('redisUrl');
  const { account } = await openAccount(prefix, over.logger);
  const queue = new ChatQueue({
    account,
    redisUrl,
    generate,
    queue: { waitMs: 30_000, maxLength: 20 },
    requestTimeoutMs: 20_000,
    prefix,
    transientBackoffMs: 10,
    ...over,
  });
  cleanups.push(() => queue.close());
  await waitUntil(() => queue.ready());
  if (runsJobs) {
    await queue.start();
  }
  return { queue, account };
}

export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(20);
  }
}

export async function collect(
  stream: AsyncIterable<GenerateEvent>,
): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const e of stream) {
      if (e.type === 'text') {
        text += e.delta;
      }
    }
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}
