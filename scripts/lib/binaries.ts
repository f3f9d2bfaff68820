/**
 * Finds the programs the local services run (PostgreSQL, Redis, Chromium) and, when some are
 * missing, says which Debian packages provide them.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The programs, by absolute path ('' for one that was not asked for). */
export interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly redisServer: string;
  readonly chromium: string;
}

/** Paths that replace the search for one program. */
export interface BinaryOverrides {
  /** A directory holding both `initdb` and `postgres`. */
  readonly pgBinDir?: string | undefined;
  readonly redisServer?: string | undefined;
  readonly chromium?: string | undefined;
}

/** One program that was not found. */
export interface MissingBinary {
  readonly program: string;
  readonly aptPackage: string;
  /** Where we looked. */
  readonly looked: string;
}

/** Some programs are missing; the message lists them and the apt-get line that installs them. */
export class MissingBinariesError extends Error {
  constructor(readonly missing: readonly MissingBinary[]) {
    const packages = [...new Set(missing.map((m) => m.aptPackage))];
    super(
      [
        `missing ${missing.map((m) => m.program).join(', ')}:`,
        ...missing.map(
          (m) => `  - ${m.program} (Debian package ${m.aptPackage}); looked in ${m.looked}`,
        ),
        `install with: sudo apt-get install -y ${packages.join(' ')}   (or run: bash .ci/run)`,
      ].join('\n'),
    );
    this.name = 'MissingBinariesError';
  }
}

const PG_ROOT = '/usr/lib/postgresql';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `command -v`, without a shell. */
export function onPath(program: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir || '.', program);
    if (dir && isExecutable(candidate)) {
      return candidate;
    }
  }
  return null;
}

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres, else PATH's. */
function findPgBinDir(): string | null {
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(PG_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // No Debian PostgreSQL; try PATH below.
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join(PG_ROOT, v, 'bin');
    if (isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))) {
      return dir;
    }
  }
  const initdb = onPath('initdb');
  return initdb && isExecutable(path.join(path.dirname(initdb), 'postgres'))
    ? path.dirname(initdb)
    : null;
}

function first(candidates: readonly (string | null)[]): string | null {
  return candidates.find((c): c is string => c !== null && isExecutable(c)) ?? null;
}

type Program = 'postgres' | 'redis' | 'chromium';
type Found = { readonly path: string } | { readonly missing: MissingBinary };

function findPostgres(o: BinaryOverrides): Found {
  const dir = o.pgBinDir ?? findPgBinDir();
  if (dir && isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))) {
    return { path: dir };
  }
  const looked = o.pgBinDir ?? `${PG_ROOT}/*/bin and PATH`;
  return {
    missing: { program: 'PostgreSQL (initdb, postgres)', aptPackage: 'postgresql', looked },
  };
}

function findRedis(o: BinaryOverrides): Found {
  const found = o.redisServer
    ? first([o.redisServer])
    : first(['/usr/bin/redis-server', onPath('redis-server')]);
  const looked = o.redisServer ?? '/usr/bin/redis-server and PATH';
  return found
    ? { path: found }
    : { missing: { program: 'redis-server', aptPackage: 'redis-server', looked } };
}

function findChromium(o: BinaryOverrides): Found {
  const found = o.chromium
    ? first([o.chromium])
    : first(['/usr/lib/chromium/chromium', '/usr/bin/chromium', onPath('chromium')]);
  const looked = o.chromium ?? '/usr/lib/chromium/chromium, /usr/bin/chromium and PATH';
  return found
    ? { path: found }
    : { missing: { program: 'chromium', aptPackage: 'chromium', looked } };
}

const FINDERS: Record<Program, (o: BinaryOverrides) => Found> = {
  postgres: findPostgres,
  redis: findRedis,
  chromium: findChromium,
};

/** Finds the programs asked for (all by default); throws MissingBinariesError naming every gap. */
export function findBinaries(
  overrides: BinaryOverrides = {},
  need: readonly Program[] = ['postgres', 'redis', 'chromium'],
): Binaries {
  const found = new Map<Program, string>();
  const missing: MissingBinary[] = [];
  for (const program of need) {
    const result = FINDERS[program](overrides);
    if ('missing' in result) {
      missing.push(result.missing);
    } else {
      found.set(program, result.path);
    }
  }
  if (missing.length > 0) {
    throw new MissingBinariesError(missing);
  }
  const pgDir = found.get('postgres');
  return {
    initdb: pgDir ? path.join(pgDir, 'initdb') : '',
    postgres: pgDir ? path.join(pgDir, 'postgres') : '',
    redisServer: found.get('redis') ?? '',
    chromium: found.get('chromium') ?? '',
  };
}
