/**
 * Two real processes serve one account: this one and a child started with tsx. Both run a worker
 * on the same BullMQ queue and record their upstream calls in Redis (Redis orders the records), so
 * the test can check that the calls never overlapped and that every job ran exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { AccountState, type ChatJob, type Generate } from '../src/account/index.ts';
import { ChatQueue, createCommandRedis } from '../src/queue/index.ts';
import { tempDir } from './support/services.ts';

const ACCOUNT = 'two-processes@example.com';
const root = process.cwd();
const src = (p: string): string => pathToFileURL(path.join(root, 'src', p)).href;

/** A Generate that logs start/end to a Redis list; `who` names the process. */
function redisRecordingSource(): string {
  return `
export function recordingGenerate(redis, prefix, who) {
  return async function* (req) {
    await req.gate?.ready?.();
    const running = await redis.incr(prefix + ':running');
    await redis.rpush(prefix + ':log', JSON.stringify({ ev: 'start', who, prompt: req.prompt, running }));
    await new Promise((r) => setTimeout(r, 40));
    yield { type: 'text', delta: 'echo:' + req.prompt };
    await redis.decr(prefix + ':running');
    await redis.rpush(prefix + ':log', JSON.stringify({ ev: 'end', who, prompt: req.prompt }));
    yield { type: 'done', result: { text: 'echo:' + req.prompt, thoughts: '', images: [], chat: null, modelName: null } };
  };
}`;
}

function childSource(): string {
  return `
import { AccountState } from '${src('account/index.ts')}';
import { ChatQueue, createCommandRedis } from '${src('queue/index.ts')}';
import { recordingGenerate } from './recording.mts';
const { REDIS_URL, PREFIX, DATA_DIR, ACCOUNT } = process.env;
const recorder = createCommandRedis(REDIS_URL);
const redis = createCommandRedis(REDIS_URL);
while (recorder.status !== 'ready') await new Promise((r) => setTimeout(r, 20));
const account = await AccountState.open({ account: ACCOUNT, dataDir: DATA_DIR, redis,
  keyPrefix: PREFIX + ':', cooldown: { quotaMs: 60000, jitterMs: 0, transientMs: 1000 } });
const queue = new ChatQueue({ account, redisUrl: REDIS_URL, prefix: PREFIX,
  generate: recordingGenerate(recorder, PREFIX, 'child'),
  queue: { waitMs: 30000, maxLength: 50 }, requestTimeoutMs: 20000 });
while (!queue.ready()) await new Promise((r) => setTimeout(r, 20));
await queue.start();
process.stdout.write('ready\\n');
process.on('SIGTERM', async () => {
  await queue.close(); await account.close(); redis.disconnect(); recorder.disconnect();
  process.exit(0);
});
`;
}

interface LogEntry {
  ev: 'start' | 'end';
  who: string;
  prompt: string;
  running?: number;
}

let child: ChildProcess | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    child.kill('SIGKILL');
  }
  child = null;
  for (const c of cleanups.splice(0).reverse()) {
    await c();
  }
});

async function startChild(dir: string, env: Record<string, string>): Promise<void> {
  fs.writeFileSync(path.join(dir, 'recording.mts'), redisRecordingSource());
  fs.writeFileSync(path.join(dir, 'child.mts'), childSource());
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  const proc = spawn(tsx, [path.join(dir, 'child.mts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child = proc;
  await new Promise<void>((resolve, reject) => {
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`child exited early with ${code}`)));
  });
}

/** This process's side: an AccountState and a ChatQueue whose worker records into Redis. */
async function startParent(dir: string, redisUrl: string, prefix: string, recorder: Redis) {
  fs.writeFileSync(path.join(dir, 'parent-recording.mts'), redisRecordingSource());
  const { recordingGenerate } = (await import(
    pathToFileURL(path.join(dir, 'parent-recording.mts')).href
  )) as { recordingGenerate: (r: Redis, p: string, who: string) => Generate };
  const redis = createCommandRedis(redisUrl);
  const account = await AccountState.open({
    account: ACCOUNT,
    dataDir: path.join(dir, 'parent'),
    redis,
    keyPrefix: `${prefix}:`,
    cooldown: { quotaMs: 60_000, jitterMs: 0, transientMs: 1000 },
  });
  const queue = new ChatQueue({
    account,
    redisUrl,
    prefix,
    generate: recordingGenerate(recorder, prefix, 'parent'),
    queue: { waitMs: 30_000, maxLength: 50 },
    requestTimeoutMs: 20_000,
  });
  cleanups.push(async () => {
    await queue.close();
    await account.close();
    redis.disconnect();
  });
  while (!queue.ready()) {
    await sleep(20);
  }
  await queue.start();
  return queue;
}

/** Strict alternation start/end of the same prompt, in Redis order, means no overlap. */
function expectNoOverlap(log: LogEntry[]): void {
  log.forEach((r, i) => {
    expect(r.ev).toBe(i % 2 === 0 ? 'start' : 'end');
    if (r.ev === 'start') {
      expect(r.running).toBe(1);
      expect(log[i + 1]?.prompt).toBe(r.prompt);
    }
  });
}

describe('two worker processes, one account', () => {
  it('a burst never overlaps upstream and each job runs exactly once', async () => {
    const redisUrl = inject('redisUrl');
    const prefix = `t-${randomUUID()}`;
    const dir = tempDir('procs');
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const recorder = new Redis(redisUrl);
    cleanups.push(() => recorder.disconnect());
    await startChild(dir, { REDIS_URL: redisUrl, PREFIX: prefix, DATA_DIR: dir, ACCOUNT });
    const queue = await startParent(dir, redisUrl, prefix, recorder);
    const readLog = async () =>
      (await recorder.lrange(`${prefix}:log`, 0, -1)).map((l) => JSON.parse(l) as LogEntry);

    // Waves, so both workers sit idle between them and both contend when a wave lands; more
    // waves until both processes have run jobs (which one wins a wave is BullMQ's choice).
    const prompts: string[] = [];
    for (let wave = 0; wave < 24; wave += 1) {
      const some = Array.from({ length: 4 }, (_, i) => `w${wave}-${i}`);
      prompts.push(...some);
      expect(await Promise.all(some.map((p) => ask(queue, p)))).toEqual(
        some.map((p) => `echo:${p}`),
      );
      if (new Set((await readLog()).map((r) => r.who)).size === 2) {
        break;
      }
      // Long enough for both workers to be idle and blocked on the queue again.
      await sleep(100 + wave * 25);
    }
    const log = await readLog();
    expect(log).toHaveLength(prompts.length * 2);
    expectNoOverlap(log);
    const started = log.filter((r) => r.ev === 'start');
    expect(started.map((r) => r.prompt).sort()).toEqual([...prompts].sort());
    expect(new Set(started.map((r) => r.who))).toEqual(new Set(['child', 'parent']));
  });
});

async function ask(queue: ChatQueue, prompt: string): Promise<string> {
  const job: ChatJob = {
    requestId: prompt,
    model: { name: 'gemini-2.5-flash', header: null, thinking: false },
    prompt,
    inputs: [],
    chat: null,
    replayPrompt: null,
  };
  let text = '';
  for await (const e of queue.stream(job, new AbortController().signal)) {
    text += e.type === 'text' ? e.delta : '';
  }
  return text;
}
