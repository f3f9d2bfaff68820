/**
 * One child process the local stack or a test started: its output goes to a log file (and, if
 * asked, line by line to a callback), and stopping it always ends with nothing of it left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitForPort } from './ports.ts';
import {
  descendantPids,
  groupMembers,
  isAlive,
  signalProcess,
  signalQuietly,
  type ProcessId,
} from './process-tree.ts';

/** How a child ended: its exit code, or the signal that ended it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  readonly error?: string;
}

/** What to run and where its output goes. */
export interface ManagedProcessOptions {
  /** A short name for messages (`postgres`, `worker1`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly cwd?: string | undefined;
  /** Run as this user (PostgreSQL refuses root); no wrapper process that could swallow signals. */
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
  /** Appends stdout and stderr here; both are discarded when absent. */
  readonly logFile?: string | undefined;
  /** Also receives every output line; output is then piped through this process. */
  readonly onLine?: ((line: string) => void) | undefined;
  /** Own process group: a terminal's Ctrl-C reaches only the parent, which stops it in order. */
  readonly detached?: boolean | undefined;
}

const TAIL_BYTES = 16 * 1024;
const RECENT_LINES = 50;
const DRAIN_MS = 500;

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** A running (or ended) child. `stop()` and `kill()` are idempotent. */
export class ManagedProcess {
  private exit: ExitInfo | null = null;
  /** The latest output lines, when output is piped through us (the file lags behind). */
  private readonly recent: string[] = [];
  /** Resolves when the process has ended. */
  readonly exited: Promise<ExitInfo>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly options: ManagedProcessOptions,
    /** Where this process's output starts in its (appended) log file. */
    private readonly logStart: number,
  ) {
    // With piped output, 'close' (every line read) follows 'exit'; a grandchild holding the pipe
    // open must not delay the end for long.
    const drained = child.stdout
      ? Promise.race([once(child, 'close'), sleep(DRAIN_MS)])
      : Promise.resolve();
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        // Recorded at once: from here on the pid may belong to someone else.
        const info = (this.exit ??= { code, signal });
        void drained.then(() => resolve(info));
      });
      child.once('error', (err) => {
        // 'error' without 'exit' means it never ran.
        if (child.pid === undefined) {
          resolve((this.exit ??= { code: null, signal: null, error: err.message }));
        }
      });
    });
  }

  /** Starts the process; spawn failures surface through `exited`, never as a throw. */
  static spawn(options: ManagedProcessOptions): ManagedProcess {
    const logStart = options.logFile ? fileSize(options.logFile) : 0;
    const logFd = options.logFile && !options.onLine ? fs.openSync(options.logFile, 'a') : null;
    const output = options.onLine ? 'pipe' : (logFd ?? 'ignore');
    const child = spawn(options.command, [...options.args], {
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      detached: options.detached ?? false,
      stdio: ['ignore', output, output],
    });
    if (logFd !== null) {
      fs.closeSync(logFd);
    }
    const managed = new ManagedProcess(child, options, logStart);
    managed.pipeLines();
    return managed;
  }

  /** The name given at spawn. */
  get name(): string {
    return this.options.name;
  }

  /** The process id; undefined if it never started. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** How it ended; null while it runs. */
  get exitInfo(): ExitInfo | null {
    return this.exit;
  }

  /** True until it has exited. */
  get running(): boolean {
    return this.exit === null && this.child.pid !== undefined;
  }

  /** Graceful stop: `signal`, then SIGKILL after `timeoutMs`; then anything of it left is killed. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const pid = this.child.pid;
    if (this.running && pid !== undefined) {
      const left = await descendantPids(pid);
      if (this.running) {
        signalQuietly(pid, signal);
        await Promise.race([this.exited, sleep(timeoutMs)]);
      }
      await this.finish(left);
    }
    await this.exited;
  }

  /** SIGKILL to it, its process group and every descendant, as a crash would. */
  async kill(): Promise<void> {
    const pid = this.child.pid;
    if (this.running && pid !== undefined) {
      await this.finish(await descendantPids(pid));
    }
    await this.exited;
  }

  /** The last lines of its log file, for a failure message. */
  lastLines(count = 20): string[] {
    if (this.options.onLine) {
      return this.recent.slice(-count);
    }
    if (!this.options.logFile || !fs.existsSync(this.options.logFile)) {
      return [];
    }
    const fd = fs.openSync(this.options.logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const from = Math.max(this.logStart, size - TAIL_BYTES);
      const buf = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
      return buf.toString('utf8').split('\n').filter(Boolean).slice(-count);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** One sentence on how it ended (or that it still runs). */
  describeExit(): string {
    const e = this.exit;
    if (!e) {
      return `${this.name} is running (pid ${String(this.pid)})`;
    }
    if (e.error) {
      return `${this.name} could not start: ${e.error}`;
    }
    return e.signal
      ? `${this.name} was ended by ${e.signal}`
      : `${this.name} exited with code ${String(e.code)}`;
  }

  /** SIGKILLs whatever remains: the process, its group if it leads one, and `known`. */
  private async finish(known: readonly ProcessId[]): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) {
      return;
    }
    const group = this.options.detached ? await groupMembers(pid) : [];
    const all = [...known, ...(await descendantPids(pid)), ...group];
    // Until node reaps it, our own child's pid cannot be reused, so it is safe to signal bare.
    if (this.running) {
      signalQuietly(pid, 'SIGKILL');
    }
    for (const p of all) {
      signalProcess(p, 'SIGKILL');
    }
    await this.exited;
    const deadline = Date.now() + 5000;
    while (all.some(isAlive) && Date.now() < deadline) {
      await sleep(50);
    }
  }

  private pipeLines(): void {
    const onLine = this.options.onLine;
    if (!onLine) {
      return;
    }
    const log = this.options.logFile
      ? fs.createWriteStream(this.options.logFile, { flags: 'a' })
      : null;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) {
        continue;
      }
      const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        // A grandchild may hold the pipe open past the end; the file is closed by then.
        if (log && !log.writableEnded) {
          log.write(`${line}\n`);
        }
        this.recent.push(line);
        if (this.recent.length > RECENT_LINES) {
          this.recent.shift();
        }
        onLine(line);
      });
    }
    void this.exited.then(() => log?.end());
  }
}

/** A child ended while we waited for it; the message carries its last log lines. */
export class ProcessExitedError extends Error {
  constructor(readonly child: ManagedProcess) {
    const tail = child.lastLines().map((l) => `  ${l}`);
    const lines = tail.length > 0 ? `; its last log lines:\n${tail.join('\n')}` : '';
    super(`${child.describeExit()}${lines}`);
    this.name = 'ProcessExitedError';
  }
}

/** Waits until the child listens on `port`; throws ProcessExitedError at once if it ends first. */
export async function waitForListening(
  child: ManagedProcess,
  port: number,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitForPort(port, timeoutMs, () => !child.running);
  } catch (err) {
    if (!child.running) {
      // A spawn failure is reported a tick after `running` turns false.
      await Promise.race([child.exited, sleep(1000)]);
      throw new ProcessExitedError(child);
    }
    throw new Error(`${child.name} did not listen on port ${port} within ${timeoutMs} ms`, {
      cause: err,
    });
  }
}
