/**
 * Issue 4's figure: the queue's own cost. The same guarded generation (an instant fake upstream,
 * so only our code is timed) runs through the account's BullMQ queue and without it, interleaved
 * in one run.
 */
import { Redis } from 'ioredis';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { AccountState, runGuarded, type ChatJob, type Generate } from '../src/account/index.ts';
import type { GenerateEvent } from '../src/gemini/index.ts';
import { findModel } from '../src/gemini/index.ts';
import { ChatQueue } from '../src/queue/index.ts';
import { tempDir } from '../e2e/support/services.ts';
import type { Services } from './harness.ts';
import { printLine, printRow, record, since, summarize } from './stats.ts';

/** Wall-clock time (ms, sub-ms precision) of the latest upstream call. */
let upstreamAt = 0;

const fakeUpstream: Generate = async function* (req) {
  // As the Gemini client: nothing upstream before the job's admission (its line claim, in process).
  await req.gate?.ready?.();
  upstreamAt = performance.timeOrigin + performance.now();
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
  let commands = { total: 0, beforeUpstream: 0 };
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
    // After the timed runs: every connection is up, so MONITOR's feed meets no ready checks.
    commands = await commandsPerRequest(services.redis.url, (i) =>
      drain(queue.stream(job(i), new AbortController().signal)),
    );
  } finally {
    await queue.close();
    await account.close();
    redis.disconnect();
  }
  const d = summarize(direct);
  const q = summarize(queued);
  printLine("\nThe queue's own cost (guarded generation with an instant upstream)");
  printLine(
    `  Redis commands per request (MONITOR, scripts counted once): ${commands.total.toFixed(1)}, ` +
      `${commands.beforeUpstream.toFixed(1)} of them before the upstream call`,
  );
  record({
    measure: 'queue Redis commands per request',
    target: '-',
    measured: `${commands.total.toFixed(1)} (${commands.beforeUpstream.toFixed(1)} before upstream)`,
    pass: null,
  });
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

/**
 * Redis commands a request costs, read with MONITOR (a script's inner calls are not counted), and
 * how many of them Redis ran before the upstream call (the ones on the latency path), by the
 * wall clock both share.
 */
async function commandsPerRequest(
  url: string,
  run: (i: number) => Promise<void>,
): Promise<{ total: number; beforeUpstream: number }> {
  // A raw connection: ioredis's monitor() can trip over the feed of its own ready check.
  const { hostname, port } = new URL(url);
  const monitor = net.connect(Number(port), hostname);
  const seen: number[] = [];
  let rest = '';
  monitor.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\r\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      // +1796308345.040253 [0 127.0.0.1:55454] "evalsha" ...; a script's own calls say [0 lua]
      const m = /^\+(\d+\.\d+) \[\d+ ([^\]]+)\]/.exec(line);
      if (m && m[2] !== 'lua') {
        seen.push(Number(m[1]) * 1000);
      }
    }
  });
  monitor.write('MONITOR\r\n');
  await new Promise((r) => setTimeout(r, 100));
  const n = 20;
  let before = 0;
  for (let i = 0; i < n; i += 1) {
    const start = performance.timeOrigin + performance.now();
    await run(10_000 + i);
    const upstream = upstreamAt;
    // The job's end in BullMQ lands just after the answer: let it, and MONITOR, arrive.
    await new Promise((r) => setTimeout(r, 30));
    before += seen.filter((t) => t >= start && t <= upstream).length;
  }
  monitor.destroy();
  return { total: seen.length / n, beforeUpstream: before / n };
}
