/**
 * PostgreSQL as a child process on loopback: a throw-away cluster for tests, or one kept in a
 * directory across runs for the local stack. As root it runs as the `postgres` user directly
 * (spawn's uid/gid): a `runuser` wrapper ignores SIGINT and, killed, leaves the server running.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { findBinaries } from './binaries.ts';
import { postgresRunAs, reachableBy, type PathUser } from './embedded-pg.ts';
import { ManagedProcess, ProcessExitedError, waitForListening } from './managed-process.ts';
import { freePort } from './ports.ts';
import { isPidRunning } from './process-tree.ts';
import { createServiceHandle, type LocalServiceHandle } from './service-handle.ts';

/** Where the cluster lives and how PostgreSQL runs; every field is optional. */
export interface PostgresOptions {
  /** A fixed port; a free one by default. */
  readonly port?: number | undefined;
  /** Keep the cluster here (`<dir>/data`, initdb once, reused); a fresh temp dir by default. */
  readonly dir?: string | undefined;
  /** Directory holding initdb and postgres; found by findBinaries() by default. */
  readonly binDir?: string | undefined;
  /** Appends the server's log here; discarded by default. */
  readonly logFile?: string | undefined;
  /** Its own process group, so a terminal's Ctrl-C reaches only the parent. */
  readonly detached?: boolean | undefined;
}

type PgUser = PathUser;

// Unix socket paths are limited to 107 bytes; longer directories get no socket (TCP only).
const MAX_SOCKET_PATH = 100;

/** Throws a clear error when `user` cannot enter every parent of `dir`. */
function checkReachable(dir: string, user: PgUser): void {
  if (!reachableBy(dir, user)) {
    throw new Error(
      `PostgreSQL runs as the postgres user, which cannot enter a parent of ${dir}; run \`chmod o+x\` on it or keep the state elsewhere`,
    );
  }
}

/** The cluster directory, created and handed to the postgres user when we are root. */
function prepareDir(dir: string | undefined, user: PgUser | null): string {
  const target = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gk-pg-'));
  fs.mkdirSync(target, { recursive: true });
  if (user) {
    fs.chownSync(target, user.uid, user.gid);
    checkReachable(target, user);
  }
  return target;
}

function initCluster(initdb: string, dir: string, user: PgUser | null): void {
  const dataDir = path.join(dir, 'data');
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    return;
  }
  try {
    execFileSync(initdb, ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(user ?? {}),
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
    throw new Error(`initdb failed for ${dataDir}${stderr ? `: ${stderr}` : ''}`, { cause: err });
  }
}

/**
 * Removes postmaster.pid and the socket lock files when the server they name is gone. PostgreSQL
 * would honour them while that pid is a zombie, which is what a killed orphan becomes under an
 * init that is slow to reap.
 */
function removeStaleLocks(dir: string): void {
  const sockets = fs.readdirSync(dir).filter((f) => /^\.s\.PGSQL\.\d+\.lock$/.test(f));
  const locks = [
    path.join(dir, 'data', 'postmaster.pid'),
    ...sockets.map((f) => path.join(dir, f)),
  ];
  for (const lock of locks) {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(lock, 'utf8').split('\n')[0]);
    } catch {
      continue;
    }
    if (Number.isInteger(pid) && pid > 0 && !isPidRunning(pid)) {
      fs.rmSync(lock, { force: true });
      if (lock.endsWith('.lock')) {
        fs.rmSync(lock.slice(0, -'.lock'.length), { force: true });
      }
    }
  }
}

/** Waits until the server answers a query, not merely accepts TCP (it refuses logins at first). */
async function untilQueryable(
  child: ManagedProcess,
  url: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      if (!child.running) {
        throw new ProcessExitedError(child);
      }
      if (Date.now() > deadline) {
        throw new Error(`PostgreSQL did not accept queries within ${timeoutMs} ms`, { cause: err });
      }
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(100);
  }
}

function serverArgs(dir: string, port: number): string[] {
  const socketDir = `${dir}/.s.PGSQL.${port}`.length <= MAX_SOCKET_PATH ? dir : '';
  return [
    ...['-D', path.join(dir, 'data'), '-p', String(port), '-k', socketDir],
    ...['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    ...['-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  ];
}

/** PostgreSQL (trust auth, user postgres) on a free (or the given) port. */
export async function startPostgres(options: PostgresOptions = {}): Promise<LocalServiceHandle> {
  const port = options.port ?? (await freePort());
  const bins = options.binDir
    ? {
        initdb: path.join(options.binDir, 'initdb'),
        postgres: path.join(options.binDir, 'postgres'),
      }
    : findBinaries({}, ['postgres']);
  const user = postgresRunAs();
  const dir = prepareDir(options.dir, user);
  initCluster(bins.initdb, dir, user);
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
  const handle = createServiceHandle({
    url,
    port,
    stopSignal: 'SIGINT',
    prepare: () => removeStaleLocks(dir),
    launch: () =>
      ManagedProcess.spawn({
        name: 'postgres',
        command: bins.postgres,
        args: serverArgs(dir, port),
        cwd: dir,
        uid: user?.uid,
        gid: user?.gid,
        logFile: options.logFile,
        detached: options.detached,
      }),
    ready: async (child) => {
      await waitForListening(child, port, 20_000);
      await untilQueryable(child, url, 20_000);
    },
  });
  await handle.start();
  return handle;
}
