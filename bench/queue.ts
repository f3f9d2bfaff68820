/**
 * Issue 4's figure: the queue's own cost. The same guarded generation (an instant fake upstream,
 * so only our code is timed) runs through the account's BullMQ queue and without it, interleaved
 * in one run.
 */
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AccountState, runGuarded, type ChatJob, type Generate } from '../src/account/index.ts';
import type { GenerateEvent } from '../src/gemini/index.ts';
import { findModel } from '../src/gemini/index.ts';
import { ChatQueue } from '../src/queue/index.ts';
import { tempDir } from '../e2e/support/services.ts';
import type { Services } from './harness.ts';
import { printLine, printRow, record, since, summarize } from './stats.ts';

const fakeUpstream: Generate = async function* (req) {
  yield { type: 'text', delta: req.prompt };
  yield {
    type: 'done',
    result: { text: req.prompt, thoughts: '', images: [], chat: null, modelName: null },
  };
};

async function drain(events: AsyncIterable<GenerateEvent>): Promise<void> {
  for await (const ev of events) {
    void ev;
  }
}

export async function benchQueue(services: Services): Promise<void> {
  const redis = new Redis(services.redis.url, { maxRetriesPerRequest: 1 });
  const accountName = `bench-queue-${randomUUID().slice(0, 8)}`;
  const account = await AccountState.open({
    account: accountName,
    dataDir: tempDir('bench-queue'),
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
    redis,
  });
  const queue = new ChatQueue({
    account,
    redisUrl: services.redis.url,
    generate: fakeUpstream,
    queue: { waitMs: 30_000, maxLength: 100 },
    requestTimeoutMs: 30_000,
    prefix: 'bench',
  });
  await queue.start();
  const job = (i: number): ChatJob => ({
    requestId: `r${i}`,
    model: findModel('gemini-2.5-flash')!,
    prompt: `queue ${i}`,
    inputs: [],
    chat: null,
    replayPrompt: null,
  });
  const direct: number[] = [];
  const queued: number[] = [];
  try {
    for (let i = 0; i < 520; i += 1) {
      let t = performance.now();
      await drain(
        runGuarded(job(i), { account, generate: fakeUpstream }, new AbortController().signal),
      );
      const d = since(t);
      t = performance.now();
      await drain(queue.stream(job(i), new AbortController().signal));
      const q = since(t);
      if (i >= 20) {
        direct.push(d);
        queued.push(q);
      }
    }
  } finally {
    await queue.close();
    await account.close();
    redis.disconnect();
  }
  const d = summarize(direct);
  const q = summarize(queued);
  printLine("\nThe queue's own cost (guarded generation with an instant upstream)");
  printRow('without the queue (runGuarded in process)', d);
  printRow('through the BullMQ queue (Redis, pub/sub)', q);
  const added = q.p50 - d.p50;
  printLine(
    `  added by the queue: p50 ${added.toFixed(2)} ms, p99 ${(q.p99 - d.p99).toFixed(2)} ms   (target: <= 2 ms at p50)`,
  );
  record({
    measure: 'queue added p50 (instant upstream)',
    target: '<= 2 ms',
    measured: `${added.toFixed(2)} ms`,
    pass: added <= 2,
  });
}
