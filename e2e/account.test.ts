/**
 * Cooldowns that last, against the shared real Redis: a quota failure cools the account down in
 * Redis and in account_state.json, a restart (a new AccountState) keeps it, requests during it never
 * reach the upstream, the half-open probe lets exactly one request through, and reset() ends it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  ACCOUNT_STATE_FILE,
  AccountState,
  accountKeys,
  readStateFile,
  type ChatJob,
  type Generate,
} from '../src/account/index.ts';
import { GeminiError, type GenerateEvent } from '../src/gemini/index.ts';
import { ChatQueue, createCommandRedis } from '../src/queue/index.ts';
import { tempDir } from './support/services.ts';

const ACCOUNT = 'cool@example.com';
const MODEL = { name: 'gemini-2.5-flash', header: null, thinking: false };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

const job = (prompt: string): ChatJob => ({
  requestId: prompt,
  model: MODEL,
  prompt,
  inputs: [],
  chat: null,
  replayPrompt: null,
});

const done = (text: string): GenerateEvent => ({
  type: 'done',
  result: { text, thoughts: '', images: [], chat: null, modelName: null },
});

/** Upstream stand-in: fails with quota while `mode.quota`, else answers; holds while `mode.hold`. */
function upstream() {
  const mode = { quota: true, hold: null as Promise<void> | null };
  const prompts: string[] = [];
  const generate: Generate = async function* (req) {
    await req.gate?.ready?.(); // as the Gemini client: nothing upstream before the admission
    prompts.push(req.prompt);
    if (mode.quota) {
      throw new GeminiError('quota', 'usage limit (1037)', { upstreamCode: 1037, httpStatus: 429 });
    }
    yield { type: 'text', delta: `ok:${req.prompt}` };
    if (mode.hold) {
      await mode.hold;
    }
    yield done(`ok:${req.prompt}`);
  };
  return { generate, prompts, mode };
}

interface Node {
  account: AccountState;
  queue: ChatQueue;
  redis: Redis;
}

async function node(
  prefix: string,
  dataDir: string,
  generate: Generate,
  quotaMs: number,
): Promise<Node> {
  const redisUrl = inject('redisUrl');
  const redis = createCommandRedis(redisUrl);
  const account = await AccountState.open({
    account: ACCOUNT,
    dataDir,
    cooldown: { quotaMs, jitterMs: 0, transientMs: 1000 },
    redis,
    keyPrefix: `${prefix}:`,
    syncIntervalMs: 200,
  });
  const queue = new ChatQueue({
    account,
    redisUrl,
    generate,
    queue: { waitMs: 10_000, maxLength: 20 },
    requestTimeoutMs: 10_000,
    prefix,
  });
  const n = { account, queue, redis };
  cleanups.push(() => stop(n));
  while (!queue.ready()) {
    await sleep(20);
  }
  await queue.start();
  return n;
}

async function stop(n: Node): Promise<void> {
  await n.queue.close();
  await n.account.close();
  n.redis.disconnect();
}

async function ask(n: Node, prompt: string): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const e of n.queue.stream(job(prompt), new AbortController().signal)) {
      text += e.type === 'text' ? e.delta : '';
    }
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

function setup() {
  const prefix = `t-${randomUUID()}`;
  const dataDir = tempDir('account');
  cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return { prefix, dataDir, hashKey: accountKeys(`${prefix}:`, ACCOUNT).hash };
}

describe('account cooldowns across restarts and processes', () => {
  it('a quota failure cools down in Redis and the file; a restart still cools; upstream untouched', async () => {
    const { prefix, dataDir, hashKey } = setup();
    const up = upstream();
    const first = await node(prefix, dataDir, up.generate, 60_000);
    const failed = await ask(first, 'boom');
    expect(failed.error).toMatchObject({ status: 429, code: 'usage_limit', retryAfterS: 60 });

    const hash = await first.redis.hgetall(hashKey);
    expect(hash['cooldown_reason']).toBe('quota');
    const until = Number(hash['cooldown_until']);
    expect(until).toBeGreaterThan(Date.now() + 50_000);
    const file = JSON.parse(fs.readFileSync(path.join(dataDir, ACCOUNT_STATE_FILE), 'utf8')) as {
      cooldown: { until: number; reason: string };
    };
    expect(file.cooldown).toEqual({ until, reason: 'quota' });
    await stop(first);

    // Restart, and Redis lost the record too (a flush): the file alone brings the cooldown back.
    const admin = new Redis(inject('redisUrl'));
    cleanups.push(() => admin.disconnect());
    await admin.del(hashKey);
    up.mode.quota = false;
    const second = await node(prefix, dataDir, up.generate, 60_000);
    expect(second.account.snapshot()).toMatchObject({ phase: 'cooling', cooldown: { until } });
    expect(Number(await admin.hget(hashKey, 'cooldown_until'))).toBe(until);
    const during = await ask(second, 'during');
    expect(during.error).toMatchObject({ status: 429, code: 'account_cooling_down' });
    expect(up.prompts).toEqual(['boom']);
  });

  it('half-open: exactly one probe goes through; others get 429 until it succeeds', async () => {
    const { prefix, dataDir, hashKey } = setup();
    const up = upstream();
    const a = await node(prefix, dataDir, up.generate, 600);
    const b = await node(prefix, tempDir('account-b'), up.generate, 600);
    await ask(a, 'boom');
    expect((await b.account.sync()).phase).toBe('cooling');
    await sleep(700);
    up.mode.quota = false;
    let release!: () => void;
    up.mode.hold = new Promise((resolve) => (release = resolve));

    const probe = a.queue.stream(job('probe'), new AbortController().signal);
    expect((await probe.next()).value).toEqual({ type: 'text', delta: 'ok:probe' });
    const refused = await Promise.all([ask(a, 'x1'), ask(b, 'x2'), ask(b, 'x3')]);
    for (const r of refused) {
      expect(r.error).toMatchObject({ status: 429, code: 'account_probing', retryAfterS: 5 });
    }
    expect(up.prompts).toEqual(['boom', 'probe']);

    release();
    up.mode.hold = null;
    while (!(await probe.next()).done) {
      // drain
    }
    expect(await a.redis.hget(hashKey, 'cooldown_until')).toBe('0');
    expect((await ask(b, 'after')).text).toBe('ok:after');
  });

  it('the probe lock holds across processes: of 5 concurrent admits exactly one probes', async () => {
    const { prefix, dataDir } = setup();
    const up = upstream();
    const nodes = [await node(prefix, dataDir, up.generate, 300)];
    for (let i = 0; i < 4; i += 1) {
      nodes.push(await node(prefix, tempDir('account-n'), up.generate, 300));
    }
    await nodes[0]?.account.coolDown('quota');
    await sleep(400);
    const results = await Promise.allSettled(nodes.map((n) => n.account.admit()));
    const probes = results.filter((r) => r.status === 'fulfilled' && r.value.probe);
    expect(probes).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(4);
  });

  it('reset() ends a cooldown for every process, and requests flow again', async () => {
    const { prefix, dataDir } = setup();
    const up = upstream();
    const dirB = tempDir('account-b');
    const a = await node(prefix, dataDir, up.generate, 60_000);
    const b = await node(prefix, dirB, up.generate, 60_000);
    await ask(a, 'boom');
    expect(
      await readStateFile(dataDir, ACCOUNT).then(
        async (c) => c ?? (await readStateFile(dirB, ACCOUNT)),
      ),
    ).toMatchObject({ reason: 'quota' });
    up.mode.quota = false;
    expect((await ask(b, 'blocked')).error).toMatchObject({ status: 429 });
    await a.account.reset();
    const after = await ask(b, 'free');
    expect(after).toEqual({ text: 'ok:free', error: undefined });
    await sleep(300);
    expect(b.account.snapshot()).toMatchObject({ phase: 'ready', cooldown: null });
    // Every process mirrors the shared state into its own file.
    expect(await readStateFile(dataDir, ACCOUNT)).toBeNull();
    expect(await readStateFile(dirB, ACCOUNT)).toBeNull();
  });
});
