/**
 * `npm run stack` as a child process, for tests and benchmarks that need the whole product: start
 * it on a free block of ports, wait for `stack ready`, stop it with a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPortFree } from './ports.ts';
import { describePorts, portRange, stackPorts } from './stack-options.ts';
import { READY_LINE } from './stack-report.ts';

/** A running `scripts/stack.ts`. */
export interface StackChild {
  /** The spawned process: node itself, or npm (leading its own process group) with `viaNpm`. */
  readonly process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Its exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** Resolves on `stack ready`; throws with the output if it exits or `timeoutMs` passes first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code; throws with the output after `timeoutMs`. */
  exitCode(timeoutMs?: number): Promise<number | null>;
  /** Sends `signal` as a terminal would: to npm's whole process group with `viaNpm`. */
  signal(signal: NodeJS.Signals): void;
}

/** How to start it. */
export interface SpawnStackOptions {
  /** Variables set over this process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** `npm run stack -- …` in a process group of its own, as a person at a terminal runs it. */
  readonly viaNpm?: boolean;
}

const ROOT_DIR = path.resolve(import.meta.dirname, '../..');

function spawnChild(args: readonly string[], options: SpawnStackOptions): ChildProcess {
  const [command, argv] = options.viaNpm
    ? ['npm', ['run', '--silent', 'stack', '--', ...args]]
    : [process.execPath, ['--import', 'tsx', 'scripts/stack.ts', ...args]];
  return spawn(command, argv, {
    cwd: ROOT_DIR,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.viaNpm ?? false,
  });
}

/** Starts the stack with `args` (node --import tsx scripts/stack.ts, or npm run stack). */
export function spawnStack(args: readonly string[], options: SpawnStackOptions = {}): StackChild {
  const child = spawnChild(args, options);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    process: child,
    output: () => out,
    exited,
    async ready(timeoutMs = 180_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.split('\n').includes(READY_LINE)) {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
          throw new Error(`the stack is not ready (exit ${String(child.exitCode)}):\n${out}`);
        }
        await sleep(200);
      }
    },
    async exitCode(timeoutMs = 60_000) {
      const code = await Promise.race([exited, sleep(timeoutMs).then(() => 'timeout' as const)]);
      if (code === 'timeout') {
        throw new Error(`the stack did not exit within ${timeoutMs} ms:\n${out}`);
      }
      return code;
    },
    signal(signal) {
      if (options.viaNpm && child.pid !== undefined) {
        process.kill(-child.pid, signal);
      } else {
        child.kill(signal);
      }
    },
  };
}

/**
 * Where Linux hands out ports to port-0 listeners and to outgoing connections (32768 unless the
 * machine says otherwise).
 */
function ephemeralFloor(): number {
  try {
    const range = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    return Number(range.trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/**
 * A --port whose every derived port (for `workers` workers, emulator included) is free now, all
 * below the ephemeral range: there, no other process's outgoing connection or port-0 listener
 * can take one of them between this check and the stack's own listen.
 */
export async function freeStackPort(workers: number): Promise<number> {
  const { min, max } = portRange(workers);
  // A machine whose ephemeral range starts too low for a block below it takes one anywhere.
  const floor = ephemeralFloor();
  const below = floor - min > 10_000 ? Math.min(max + 1, floor) : max + 1;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = min + Math.floor(Math.random() * (below - min));
    const all = describePorts(stackPorts(port, workers), false).map((p) => p.port);
    if (all.every((p) => p < below) && (await Promise.all(all.map(isPortFree))).every(Boolean)) {
      return port;
    }
  }
  throw new Error('found no block of free ports for a stack');
}
