/**
 * Runs one of our roles (`node --import tsx src/main.ts worker|gateway`) as a child of the stack:
 * its JSON log goes to a file, and only its warnings, errors and non-JSON lines reach the
 * terminal, prefixed with its name, so two workers and a gateway stay readable.
 */
import { ManagedProcess } from './managed-process.ts';

/** One role process to start. */
export interface RoleProcessOptions {
  /** `worker1`, `gateway`: the log prefix. */
  readonly name: string;
  readonly role: 'worker' | 'gateway';
  /** Variables set on top of the stack's own environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** The repository root (where src/main.ts lives). */
  readonly rootDir: string;
  /** Receives the lines worth showing. */
  readonly echo: (line: string) => void;
}

const SHOWN_LEVELS = new Set(['warn', 'error']);

function field(record: Record<string, unknown>, key: string): string | null {
  const v = record[key];
  return typeof v === 'string' ? v : null;
}

/** The terminal line for one log line of `name`, or null when it belongs in the file only. */
export function summarizeLogLine(name: string, line: string): string | null {
  if (line.trim() === '') {
    return null;
  }
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return `[${name}] ${line}`;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return `[${name}] ${line}`;
  }
  const r = record as Record<string, unknown>;
  const level = field(r, 'level');
  if (level === null || !SHOWN_LEVELS.has(level)) {
    return null;
  }
  const err = r['err'];
  const detail =
    typeof err === 'object' && err !== null
      ? field(err as Record<string, unknown>, 'message')
      : null;
  return `[${name}] ${level}: ${field(r, 'message') ?? ''}${detail ? ` (${detail})` : ''}`;
}

/** Starts the role in its own process group; the stack stops it with SIGTERM. */
export function startRoleProcess(options: RoleProcessOptions): ManagedProcess {
  return ManagedProcess.spawn({
    name: options.name,
    command: process.execPath,
    args: ['--import', 'tsx', 'src/main.ts', options.role],
    cwd: options.rootDir,
    env: { ...process.env, ...options.env },
    logFile: options.logFile,
    detached: true,
    onLine: (line) => {
      const shown = summarizeLogLine(options.name, line);
      if (shown !== null) {
        options.echo(shown);
      }
    },
  });
}
