/**
 * What every benchmark needs: local PostgreSQL and Redis, the emulator, and workers as child
 * processes (so their memory can be read on their own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { writeCookieCache } from '../src/browser/index.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { BENCH_ADMIN_KEY, BENCH_API_KEY, BENCH_HEADERS } from './bench-keys.ts';
import {
  freePort,
  startPostgres,
  startRedis,
  tempDir,
  type ServiceHandle,
} from '../e2e/support/services.ts';

export { BENCH_API_KEY, BENCH_HEADERS } from './bench-keys.ts';

export interface Services {
  pg: ServiceHandle;
  redis: ServiceHandle;
  close(): Promise<void>;
}

export async function startServices(): Promise<Services> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  return { pg, redis, close: async () => void (await Promise.all([pg.stop(), redis.stop()])) };
}

/**
 * The bench's HTTP client to a worker: undici's `request` on a keep-alive pool, the library the
 * direct subject's Gemini client uses, so that a worker row is not charged for the WHATWG layers
 * of `fetch` (about 0.3 ms a request here) that the direct row never pays.
 */
const benchClient = new Agent();

/** POSTs a chat completion to `url`; throws on a non-2xx answer with its body. */
export async function postChat(url: string, body: unknown): Promise<AsyncIterable<Buffer>> {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify(body),
    dispatcher: benchClient,
  });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    throw new Error(`worker answered ${res.statusCode}: ${await res.body.text()}`);
  }
  return res.body;
}

export interface ChildService {
  readonly url: string;
  readonly pid: number;
  /** Resident set size in MiB, from /proc. */
  rssMiB(): number;
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

let profileDir: string | null = null;

/** `npm run bench -- --profile`: children started with a profile name write a CPU profile there. */
export function enableProfiling(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  profileDir = dir;
}

/** Where the CPU profile named `name` is written, or null when profiling is off. */
export function profilePath(name: string): string | null {
  return profileDir && path.join(profileDir, `${name}.cpuprofile`);
}

/** A module a child loads with `--import` to measure itself, writing where its variable says. */
interface ChildProbe {
  dir: string | null;
  readonly ext: string;
  readonly envVar: string;
  readonly module: string;
}

const PROBES = {
  /** `--alloc`: bench/alloc-probe.ts counts allocation between two SIGUSR2s. */
  alloc: { dir: null, ext: 'alloc', envVar: 'BENCH_ALLOC_OUT', module: 'alloc-probe.ts' },
  /** `--timeline`: bench/timeline-probe.ts stamps each request's steps. */
  timeline: {
    dir: null,
    ext: 'timeline',
    envVar: 'BENCH_TIMELINE_OUT',
    module: 'timeline-probe.ts',
  },
} satisfies Record<string, ChildProbe>;

/** The probes a bench child can load. */
export type ProbeName = keyof typeof PROBES;

/** Turns `probe` on: children started with a name for it load it and write under `dir`. */
export function enableProbe(probe: ProbeName, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  (PROBES[probe] as ChildProbe).dir = dir;
}

/** Where the child `name` writes `probe`'s output (without extension); null while it is off. */
export function probePath(probe: ProbeName, name: string): string | null {
  const p: ChildProbe = PROBES[probe];
  return p.dir && path.join(p.dir, `${name}.${p.ext}`);
}

/** Opens or closes a child's allocation window (the probe toggles on SIGUSR2). */
export function toggleAllocWindow(child: ChildService): void {
  process.kill(child.pid, 'SIGUSR2');
}

/** `--import` arguments for the probes the child is named for (their output paths go in `env`). */
function probeArgs(
  names: Partial<Record<ProbeName, string>>,
  env: Record<string, string>,
): string[] {
  const modules: string[] = [];
  for (const probe of Object.keys(PROBES) as ProbeName[]) {
    const name = names[probe];
    const file = name ? probePath(probe, name) : null;
    if (file) {
      fs.rmSync(`${file}.json`, { force: true });
      env[PROBES[probe].envVar] = file;
      modules.push(path.join(import.meta.dirname, PROBES[probe].module));
    }
  }
  return modules.length === 0
    ? []
    : ['--import', 'tsx', ...modules.flatMap((m) => ['--import', `file://${m}`])];
}

/** How a child is started. */
export interface RoleOptions {
  /** Polled until it answers 200. */
  readonly readyPath?: string;
  /** With profiling on, the child writes a V8 CPU profile under this name when it exits. */
  readonly profileAs?: string;
  /** With --alloc on, the child loads the allocation probe, writing under this name. */
  readonly allocAs?: string;
  /** With --timeline on, the child loads the timeline probe, writing under this name. */
  readonly timelineAs?: string;
  /** A checkout whose `dist/` to run instead of this one's (`--baseline`). */
  readonly root?: string;
}

/** Runs `dist/main.js <role>` (the built artifact) with env and waits until it is ready. */
export async function startRole(
  role: 'worker' | 'gateway',
  env: Record<string, string>,
  options: RoleOptions = {},
): Promise<ChildService> {
  const port = Number(env['PORT']) || (await freePort());
  const root = options.root ?? path.resolve(import.meta.dirname, '..');
  const readyPath = options.readyPath ?? '/health';
  const file = options.profileAs ? profilePath(options.profileAs) : null;
  const cpuProf = file
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${path.dirname(file)}`,
        `--cpu-prof-name=${path.basename(file)}`,
      ]
    : [];
  const childEnv = {
    ...process.env,
    API_KEYS: BENCH_API_KEY,
    ADMIN_API_KEYS: BENCH_ADMIN_KEY,
    ...env,
    PORT: String(port),
  };
  const probe = probeArgs(
    {
      ...(options.allocAs ? { alloc: options.allocAs } : {}),
      ...(options.timelineAs ? { timeline: options.timelineAs } : {}),
    },
    childEnv,
  );
  // The production artifact (npm run build), as the Docker image runs it.
  const child: ChildProcess = spawn(
    process.execPath,
    [...cpuProf, ...probe, 'dist/main.js', role],
    {
      cwd: root,
      env: childEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i += 1) {
    if (child.exitCode !== null) {
      throw new Error(`${role} exited: ${err}`);
    }
    if (
      await fetch(`${url}${readyPath}`).then(
        (r) => r.ok,
        () => false,
      )
    ) {
      return {
        url,
        pid: child.pid!,
        rssMiB: () => rssOf(child.pid!),
        stop: async () => {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`${role} did not become ready: ${err}`);
}

/** Makes an emulator account and writes its cookies to `dir`/cookie_cache.json; returns the file. */
export async function emulatorCookieFile(
  emulator: BenchEmulator,
  dir: string,
  email: string,
): Promise<string> {
  const file = path.join(dir, 'cookie_cache.json');
  await writeCookieCache(file, (await emulator.createAccount(email)).cookies);
  return file;
}

/** A worker child signed in to an emulator account through cookie_cache.json. */
export async function startBenchWorker(
  emulator: BenchEmulator,
  services: Services,
  email: string,
  extra: Record<string, string> = {},
  options: RoleOptions = {},
): Promise<ChildService> {
  const dataDir = tempDir('bench-worker');
  await emulatorCookieFile(emulator, dataDir, email);
  return startRole(
    'worker',
    {
      EXTERNAL_IP: '127.0.0.1',
      GEMINI_WORKER_ID: `bench-${email}`,
      GEMINI_ACCOUNT: email.replace(/[^\w.-]/g, '_'),
      DATA_DIR: dataDir,
      DATABASE_URL: services.pg.url,
      REDIS_URL: services.redis.url,
      CHROME_CDP_URL: 'off',
      HOST_RESOLVER_RULES: emulator.hostResolverRules(),
      GEMINI_QUEUE_MAX_LENGTH: '200',
      GEMINI_QUEUE_WAIT_MS: '120000',
      ...extra,
    },
    options,
  );
}

let baselineRoot: string | null = null;

/**
 * `npm run bench -- --baseline <checkout>`: the worker rows also run a worker built from that
 * checkout (its own `npm run build`), interleaved with this one, so that a before/after compares
 * under the same load on a shared machine.
 */
export function setBaseline(root: string): void {
  if (!fs.existsSync(path.join(root, 'dist', 'main.js'))) {
    throw new Error(`--baseline ${root}: no dist/main.js there (run npm run build in it)`);
  }
  baselineRoot = path.resolve(root);
}

/** The checkout given with --baseline, or null. */
export function baseline(): string | null {
  return baselineRoot;
}
