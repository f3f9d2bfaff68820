/**
 * Real PostgreSQL, Redis and Chromium for e2e tests, each a child process on loopback with its
 * state under a temporary directory. Each handle can be stopped, killed and restarted on the
 * same port and data, so fault tests can take a service away and bring it back.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceHandle {
  readonly url: string;
  readonly port: number;
  /** Graceful stop (SIGTERM, then wait). */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Starts again on the same port and data. */
  start(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
    }
    await sleep(100);
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gk-${prefix}-`));
}

async function stopChild(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

function which(cmd: string, fallbacks: string[] = []): string {
  for (const p of fallbacks) {
    if (fs.existsSync(p)) {
      return p;
    }
  }
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${cmd} is not installed; run .ci/run or install it with apt-get`);
  }
}

/** Redis with no persistence on a free port. */
export async function startRedis(): Promise<ServiceHandle> {
  const port = await freePort();
  const bin = which('redis-server', ['/usr/bin/redis-server']);
  let child: ChildProcess | null = null;
  const handle: ServiceHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        bin,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await waitForPort(port);
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
  };
  await handle.start();
  return handle;
}

const PG_BIN_DIRS = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
];

function pgBin(name: string): string {
  for (const dir of PG_BIN_DIRS) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) {
      return p;
    }
  }
  return which(name);
}

/** PostgreSQL refuses to run as root; as root, run it as the `postgres` system user. */
function asPgUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
    : [cmd, args];
}

/** A throw-away PostgreSQL cluster (trust auth, user postgres) on a free port. */
export async function startPostgres(): Promise<ServiceHandle> {
  const port = await freePort();
  const dir = tempDir('pg');
  const dataDir = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    fs.chmodSync(dir, 0o777);
  }
  const [initCmd, initArgs] = asPgUser(pgBin('initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  let child: ChildProcess | null = null;
  const handle: ServiceHandle = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      const [cmd, args] = asPgUser(pgBin('postgres'), [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ]);
      child = spawn(cmd, args, { stdio: 'ignore' });
      await waitForPort(port);
      // The port opens a moment before the server accepts logins.
      await sleep(300);
    },
    async stop() {
      await stopChild(child, 'SIGINT');
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
  };
  await handle.start();
  return handle;
}

export interface ChromiumOptions {
  /** Chromium's `--host-resolver-rules`, pointing Google's hosts at the emulator. */
  readonly hostResolverRules?: string;
  /** Reuse a profile across restarts; a fresh one by default. */
  readonly userDataDir?: string;
}

export interface ChromiumHandle extends ServiceHandle {
  readonly userDataDir: string;
  readonly pid: () => number | undefined;
}

/** Headless Debian Chromium with CDP on a fixed loopback port, as Kasm's Chrome runs. */
export async function startChromium(options: ChromiumOptions = {}): Promise<ChromiumHandle> {
  const port = await freePort();
  const userDataDir = options.userDataDir ?? tempDir('chrome');
  const bin = which('chromium', ['/usr/lib/chromium/chromium', '/usr/bin/chromium']);
  let child: ChildProcess | null = null;
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--ignore-certificate-errors',
    `--remote-debugging-port=${port}`,
    `--user-data-dir=${userDataDir}`,
    ...(options.hostResolverRules ? [`--host-resolver-rules=${options.hostResolverRules}`] : []),
    'about:blank',
  ];
  const handle: ChromiumHandle = {
    url: `http://127.0.0.1:${port}`,
    port,
    userDataDir,
    pid: () => child?.pid,
    async start() {
      for (const f of ['SingletonLock', 'SingletonSocket', 'SingletonCookie']) {
        fs.rmSync(path.join(userDataDir, f), { force: true });
      }
      child = spawn(bin, args, { stdio: 'ignore' });
      await waitForPort(port, 30_000);
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
    },
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
  };
  await handle.start();
  return handle;
}
