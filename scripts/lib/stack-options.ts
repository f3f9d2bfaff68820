/**
 * `npm run stack` options and its port scheme: every port derives from `--port`, so shifting it
 * moves the whole stack (tests pick a base whose ports are all free).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BinaryOverrides } from './binaries.ts';

/** What the stack runs. */
export interface StackOptions {
  readonly workers: number;
  /** No emulator: the Chromiums reach real Google and a person signs them in. */
  readonly real: boolean;
  /** State directory (absolute): the cluster, profiles, data, logs, the emulator's CA. */
  readonly dir: string;
  /** The gateway's port; every other port derives from it (see stackPorts). */
  readonly port: number;
  readonly binaries: BinaryOverrides;
  /** The X display for headed Chromiums in --real (DISPLAY); null runs them headless. */
  readonly display: string | null;
}

/** What the command line is read against. */
export interface ParseContext {
  /** Relative paths resolve against it. */
  readonly cwd: string;
  /** The state directory without --dir. */
  readonly defaultDir: string;
  readonly display: string | null;
}

/** Every port of a stack. */
export interface StackPorts {
  readonly gateway: number;
  /** Worker i's API (index 0 = worker1). */
  readonly workers: readonly number[];
  /** Worker i's Chromium CDP port. */
  readonly cdp: readonly number[];
  readonly emulator: number;
  readonly postgres: number;
  readonly redis: number;
}

/** The command line was wrong; the message says how. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The result of parsing: run with options, or print the usage. */
export type ParsedStackArgs =
  { readonly kind: 'run'; readonly options: StackOptions } | { readonly kind: 'help' };

export const DEFAULT_PORT = 8080;
export const DEFAULT_WORKERS = 2;
export const MAX_WORKERS = 50;

// With the default --port 8080: workers 8001…, CDP 9222… (as in Kasm), emulator 8443,
// PostgreSQL 5433 and Redis 6380 (one above the system services', which may be running).
const OFFSET = { worker: -80, cdp: 1141, emulator: 363, postgres: -2647, redis: -1700 } as const;

/** The ports of a stack whose gateway listens on `port`. */
export function stackPorts(port: number, workers: number): StackPorts {
  const ids = Array.from({ length: workers }, (_, i) => i + 1);
  return {
    gateway: port,
    workers: ids.map((i) => port + OFFSET.worker + i),
    cdp: ids.map((i) => port + OFFSET.cdp + i),
    emulator: port + OFFSET.emulator,
    postgres: port + OFFSET.postgres,
    redis: port + OFFSET.redis,
  };
}

/** Every port with what it is for, in start order. */
export function describePorts(ports: StackPorts, real: boolean): { name: string; port: number }[] {
  return [
    { name: 'PostgreSQL', port: ports.postgres },
    { name: 'Redis', port: ports.redis },
    ...(real ? [] : [{ name: 'the emulator', port: ports.emulator }]),
    ...ports.cdp.map((port, i) => ({ name: `worker${i + 1}'s Chromium (CDP)`, port })),
    ...ports.workers.map((port, i) => ({ name: `worker${i + 1}`, port })),
    { name: 'the gateway', port: ports.gateway },
  ];
}

/** The smallest and largest `--port` for this many workers. */
export function portRange(workers: number): { min: number; max: number } {
  return { min: 1024 - OFFSET.postgres, max: 65535 - OFFSET.cdp - workers };
}

export const USAGE = `Usage: npm run stack -- [options]

The whole product on this machine, without Docker: PostgreSQL, Redis, one Chromium per
worker, the Gemini emulator, the workers and the gateway, each a child process on loopback.
Ctrl-C stops everything it started (a second Ctrl-C forces).

Options:
  --workers N        number of workers (default ${DEFAULT_WORKERS}, at most ${MAX_WORKERS})
  --real             no emulator: the Chromiums reach real Google and you sign each one in
                     (a window per worker when DISPLAY is set, else headless: see the hints)
  --dir DIR          state directory (default .stack/): PostgreSQL cluster, browser profiles,
                     worker data, logs, the emulator's CA; reused by the next run
  --port P           gateway port (default ${DEFAULT_PORT}); every other port moves with it:
                       worker i      P-80+i   (8001, 8002, …)
                       Chromium i    P+1141+i (9222, 9223, …, CDP on 127.0.0.1 only)
                       emulator      P+363    (8443)
                       PostgreSQL    P-2647   (5433)
                       Redis         P-1700   (6380)
  --chromium PATH    the Chromium binary (default /usr/lib/chromium/chromium)
  --pg-bin DIR       directory with initdb and postgres (default /usr/lib/postgresql/<newest>/bin)
  --redis-server PATH  the redis-server binary (default /usr/bin/redis-server)
  -h, --help         this text

Needs (Debian): apt-get install postgresql redis-server chromium
`;

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) {
    return fallback;
  }
  if (!/^\d+$/.test(value)) {
    throw new UsageError(`${name} must be a whole number, not "${value}"`);
  }
  return Number(value);
}

function checkNumbers(workers: number, port: number): void {
  if (workers < 1 || workers > MAX_WORKERS) {
    throw new UsageError(`--workers must be between 1 and ${MAX_WORKERS}`);
  }
  const { min, max } = portRange(workers);
  if (port < min || port > max) {
    throw new UsageError(
      `--port must be between ${min} and ${max} (the other ports derive from it)`,
    );
  }
}

const ARG_SPEC = {
  workers: { type: 'string' },
  real: { type: 'boolean' },
  dir: { type: 'string' },
  port: { type: 'string' },
  chromium: { type: 'string' },
  'pg-bin': { type: 'string' },
  'redis-server': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: ARG_SPEC })
      .values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Parses argv (without node and the script). Throws UsageError. */
export function parseStackArgs(argv: readonly string[], context: ParseContext): ParsedStackArgs {
  const values = readArgs(argv);
  if (values.help) {
    return { kind: 'help' };
  }
  const workers = intOption(values.workers, '--workers', DEFAULT_WORKERS);
  const port = intOption(values.port, '--port', DEFAULT_PORT);
  checkNumbers(workers, port);
  const abs = (p: string | undefined) =>
    p === undefined ? undefined : path.resolve(context.cwd, p);
  const binaries: BinaryOverrides = {
    chromium: abs(values.chromium),
    pgBinDir: abs(values['pg-bin']),
    redisServer: abs(values['redis-server']),
  };
  const dir = abs(values.dir) ?? context.defaultDir;
  const real = values.real ?? false;
  return {
    kind: 'run',
    options: { workers, real, dir, port, binaries, display: real ? context.display : null },
  };
}
