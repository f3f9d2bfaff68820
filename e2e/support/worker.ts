/**
 * Runs real workers for e2e tests: in this process through the same composition root main.ts
 * uses, or as a child process (`tsx src/main.ts worker`) when a test must kill one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { inject } from 'vitest';
import { writeCookieCache } from '../../src/browser/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { createLogger } from '../../src/logging.ts';
import { startWorker, type RunningService } from '../../src/roles/worker.ts';
import { personSignIn } from './person.ts';
import { freePort, startChromium, tempDir } from './services.ts';

export interface TestWorker extends RunningService {
  readonly dataDir: string;
  readonly account: string;
  /** Every log line the worker wrote, for secret checks. */
  logs(): string;
  openai(apiKey?: string): OpenAI;
}

export interface TestWorkerOptions {
  readonly emulator: Emulator;
  /** The Google account; its cookies go to cookie_cache.json unless `signIn` is false. */
  readonly email: string;
  readonly signIn?: boolean;
  readonly env?: Record<string, string>;
  /** How long a child worker may take to answer /health (30 s by default). */
  readonly startTimeoutMs?: number;
  /**
   * `page`: a Chromium of its own, signed in as `email` by the person, and the worker sending
   * through it (GEMINI_TRANSPORT=page). Default `node`.
   */
  readonly transport?: 'node' | 'page';
}

let seq = 0;

/** A unique account name, so queues and cooldowns never leak between tests. */
export function uniqueEmail(tag: string): string {
  seq += 1;
  return `${tag}-${process.pid}-${Date.now().toString(36)}-${seq}@example.com`;
}

/** The worker environment for an emulator-backed account. */
export function workerEnv(opts: TestWorkerOptions, dataDir: string): Record<string, string> {
  return {
    PORT: '0',
    EXTERNAL_IP: '127.0.0.1',
    GEMINI_WORKER_ID: `w-${opts.email}`,
    GEMINI_ACCOUNT: opts.email.replace(/[^\w.-]/g, '_'),
    DATA_DIR: dataDir,
    DATABASE_URL: inject('pgUrl'),
    REDIS_URL: inject('redisUrl'),
    CHROME_CDP_URL: 'off',
    HOST_RESOLVER_RULES: opts.emulator.hostResolverRules(),
    GEMINI_COOLDOWN_JITTER_S: '0',
    HEARTBEAT_INTERVAL_MS: '500',
    // Suites that test keys set API_KEYS/ADMIN_API_KEYS; the rest run open, as a stack may.
    ALLOW_NO_AUTH: '1',
    ...opts.env,
  };
}

async function prepareDataDir(opts: TestWorkerOptions): Promise<string> {
  const dataDir = tempDir('worker');
  const { cookies } = opts.emulator.createAccount(opts.email);
  if (opts.signIn !== false) {
    await writeCookieCache(path.join(dataDir, 'cookie_cache.json'), cookies);
  }
  return dataDir;
}

/**
 * The transport a test worker uses: its own option, else E2E_TRANSPORT (so that any suite can be
 * run once with `E2E_TRANSPORT=page`), except for workers that bring their own browser or none.
 */
function transportOf(opts: TestWorkerOptions): 'node' | 'page' {
  if (opts.transport) {
    return opts.transport;
  }
  const ownBrowser = opts.signIn === false || opts.env?.['CHROME_CDP_URL'] !== undefined;
  return process.env['E2E_TRANSPORT'] === 'page' && !ownBrowser ? 'page' : 'node';
}

/** A signed-in Chromium for a page-transport worker, and the env that points the worker at it. */
async function pageBrowser(
  opts: TestWorkerOptions,
): Promise<{ env: Record<string, string>; stop(): Promise<void> }> {
  if (transportOf(opts) !== 'page') {
    return { env: {}, stop: () => Promise.resolve() };
  }
  const chrome = await startChromium({ hostResolverRules: opts.emulator.hostResolverRules() });
  try {
    await personSignIn(chrome.url, opts.email);
  } catch (err) {
    await chrome.stop();
    throw err;
  }
  return {
    env: { CHROME_CDP_URL: chrome.url, GEMINI_TRANSPORT: 'page' },
    stop: () => chrome.stop(),
  };
}

/**
 * Waits (up to 15 s) for the worker's model discovery at start (otAQ7b) to have been answered, so
 * that a test counting the account's upstream requests does not see it arrive midway.
 */
async function untilDiscovered(opts: TestWorkerOptions): Promise<void> {
  if (opts.signIn === false) {
    return;
  }
  const email = opts.email.toLowerCase();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const asked = opts.emulator
      .records()
      .some((r) => r.kind === 'batchexecute' && r.email === email && r.endedAt !== null);
    if (asked) {
      return;
    }
    await sleep(50);
  }
}

/** Starts a worker in this process. */
export async function startTestWorker(opts: TestWorkerOptions): Promise<TestWorker> {
  const dataDir = await prepareDataDir(opts);
  const browser = await pageBrowser(opts);
  const env = { ...workerEnv(opts, dataDir), ...browser.env };
  const config = loadConfig('worker', env);
  const sink = new PassThrough();
  let logs = '';
  sink.on('data', (b: Buffer) => (logs += b.toString('utf8')));
  const logger = createLogger({ debug: true, stream: sink });
  const running = await startWorker(config, logger).catch(async (err: unknown) => {
    await browser.stop();
    throw err;
  });
  await untilDiscovered(opts);
  return {
    ...running,
    close: async () => {
      await running.close();
      await browser.stop();
    },
    dataDir,
    account: config.account,
    logs: () => logs,
    openai: (apiKey = 'unused') =>
      new OpenAI({ apiKey, baseURL: `${running.url}/v1`, maxRetries: 0 }),
  };
}

export interface ChildWorker {
  readonly url: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `tsx src/main.ts worker` as a child process and waits for /health. */
export async function startChildWorker(
  opts: TestWorkerOptions & { dataDir?: string },
): Promise<ChildWorker> {
  const dataDir = opts.dataDir ?? (await prepareDataDir(opts));
  const port = await freePort();
  const env = { ...process.env, ...workerEnv(opts, dataDir), PORT: String(port) };
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'worker'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`worker exited with ${child.exitCode}:\n${out}`);
    }
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start:\n${out}`);
    }
    await sleep(200);
  }
  await untilDiscovered(opts);
  return {
    url,
    child,
    dataDir,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) {
        return child.exitCode;
      }
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      child.kill(signal);
      return exited;
    },
  };
}

/** True when `text` contains none of the values. */
export function containsNone(text: string, values: readonly string[]): boolean {
  return values.every((v) => v.length < 6 || !text.includes(v));
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}
