/**
 * ChatQueue.call (discovery's otAQ7b as an rpc job) on the shared real Redis: it waits behind a
 * running chat and never overlaps it, takes no slot from users, and is refused while the account
 * cools down. Generate and the rpc are fakes that stand in for Google, not for our code.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { AccountState, type CallRpc, type ChatJob, type Generate } from '../src/account/index.ts';
import { ChatQueue, createCommandRedis } from '../src/queue/index.ts';
import { tempDir } from './support/services.ts';

const MODEL = { name: 'gemini-3-flash', header: null, thinking: false };
const job = (prompt: string): ChatJob => {
  const none = { inputs: [], chat: null, replayPrompt: null };
  return { requestId: `req-${prompt}`, model: MODEL, prompt, ...none };
};

/** Upstream for both kinds, logging starts and ends; a chat holds until released. */
function upstream() {
  const log: string[] = [];
  const releases: (() => void)[] = [];
  const generate: Generate = async function* (req) {
    await req.gate?.ready?.(); // as the Gemini client: nothing upstream before the admission
    log.push(`chat:start:${req.prompt}`);
    await new Promise<void>((resolve) => releases.push(resolve));
    yield { type: 'text', delta: `ok:${req.prompt}` };
    log.push(`chat:end:${req.prompt}`);
  };
  const rpc: CallRpc = async (rpcId) => {
    log.push(`rpc:start:${rpcId}`);
    await sleep(20);
    log.push(`rpc:end:${rpcId}`);
    return [rpcId, 'answer'];
  };
  return { log, releases, generate, rpc };
}

async function makeQueue(
  up: ReturnType<typeof upstream>,
  maxLength: number,
): Promise<{ queue: ChatQueue; account: AccountState }> {
  const prefix = `rpc-${randomUUID()}`;
  const redis = createCommandRedis(inject('redisUrl'));
  const dataDir = tempDir('queue-rpc');
  const account = await AccountState.open({
    account: 'rpc@example.com',
    dataDir,
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
    redis,
    keyPrefix: `${prefix}:`,
  });
  const queue = new ChatQueue({
    account,
    redisUrl: inject('redisUrl'),
    generate: up.generate,
    rpc: up.rpc,
    queue: { waitMs: 30_000, maxLength },
    requestTimeoutMs: 20_000,
    prefix,
  });
  onTestFinished(async () => {
    await queue.close();
    await account.close();
    redis.disconnect();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  await waitUntil(() => queue.ready());
  await queue.start();
  return { queue, account };
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) {
      throw new Error('condition not met in time');
    }
    await sleep(20);
  }
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // read to the end
  }
}

describe('ChatQueue.call: an rpc in the account line', () => {
  it('waits for a running chat and never overlaps it; takes no slot from users', async () => {
    const up = upstream();
    const { queue } = await makeQueue(up, 1);
    const chat = drain(queue.stream(job('first'), new AbortController().signal));
    await waitUntil(() => up.log.includes('chat:start:first'));
    // The one slot is held by the chat: the rpc still queues, and is not a request in flight.
    const call = queue.call({ rpcId: 'otAQ7b', payload: [] }, new AbortController().signal);
    await waitUntil(async () => (await queue.stats()).waiting === 1);
    await sleep(100);
    expect(up.log).toEqual(['chat:start:first']);
    expect(queue.currentTasks).toBe(1);
    up.releases[0]?.();
    await chat;
    await expect(call).resolves.toEqual(['otAQ7b', 'answer']);
    expect(up.log).toEqual([
      'chat:start:first',
      'chat:end:first',
      'rpc:start:otAQ7b',
      'rpc:end:otAQ7b',
    ]);
    // While an rpc waits, a user's request still finds the slot free.
    const second = drain(queue.stream(job('second'), new AbortController().signal));
    const queued = queue.call({ rpcId: 'otAQ7b', payload: [] }, new AbortController().signal);
    await waitUntil(() => up.log.includes('chat:start:second'));
    up.releases[1]?.();
    await Promise.all([second, queued]);
    // The job's end in BullMQ is after-work, written a few ms after its last answer went out.
    await waitUntil(async () => (await queue.stats()).active === 0, 2000);
    expect(await queue.stats()).toEqual({ waiting: 0, active: 0 });
  });

  it('is refused at once while the account cools down, and never calls upstream', async () => {
    const up = upstream();
    const { queue, account } = await makeQueue(up, 5);
    await account.coolDown('quota');
    await expect(
      queue.call({ rpcId: 'otAQ7b', payload: [] }, new AbortController().signal),
    ).rejects.toMatchObject({ status: 429 });
    expect(up.log).toEqual([]);
  });
});
