/**
 * @module api/save-thread
 * The file steps of a conversation save, done in one worker thread with synchronous calls. Done
 * on the event loop with fs promises they were five thread-pool round trips (the temporary file's
 * open, write and close, its rename, the history key's link), each waking the loop and resuming a
 * promise chain beside the next request; here they cost it one message each way. On this 2-core
 * machine a save took 445-500 µs of CPU and 280-307 µs of the event loop that way, 275-290 µs and
 * 60-64 µs here. One thread, so saves run in the order they were asked for.
 */
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';

/** One save's files: the conversation (through a temporary file) and its history key's link. */
export interface SaveFiles {
  readonly file: string;
  readonly tmp: string;
  readonly body: string;
  /** The history-key folder (inside the conversations folder): made, with it, when missing. */
  readonly keyDir: string;
  readonly keyFile: string;
  /** A temporary link, for replacing a key that is already linked. */
  readonly keyTmp: string;
  /** The conversation id the key links to. */
  readonly id: string;
  /** Look whether `file` existed before the save (the caller does not know). */
  readonly checkExisted: boolean;
}

/** What a save found: whether the file existed before it, when asked. */
export interface Saved {
  readonly existed: boolean | null;
}

interface Reply {
  readonly seq: number;
  readonly existed?: boolean | null;
  readonly error?: { readonly message: string; readonly code?: string };
}

interface Waiter {
  readonly files: SaveFiles;
  /** A thread that stopped before saving anything held it: it gets no further try. */
  readonly retried: boolean;
  resolve(saved: Saved): void;
  reject(error: Error): void;
}

/** One thread and the saves it holds. */
interface Running {
  readonly worker: Worker;
  readonly waiting: Map<number, Waiter>;
  /** It answered a save: it started, whatever stops it later. */
  answered: boolean;
  /** terminate() stopped it: its saves fail, and none is tried again. */
  stopping: boolean;
}

/** Threads in a row that stop before answering any save: past this, saves run on the loop. */
const FAILED_STARTS_BEFORE_FALLBACK = 3;

export interface SaveThreadOptions {
  /** The thread's code (tests add a fault to it). */
  readonly source?: string;
  /** Starts a thread on `source` (tests make it fail). */
  readonly startThread?: (source: string) => Worker;
  /** Told once when saves move to the event loop, and why. */
  readonly onFallback?: (why: string) => void;
}

const startEvalThread = (source: string): Worker =>
  new Worker(source, { eval: true, execArgv: [] });

/**
 * The save thread; started on the first save, and again after it died. A thread that stops before
 * saving anything passes its saves to the next try (once each; the steps are safe to repeat). When
 * no thread can be started (thread limits, a runtime without them), the same steps run on the
 * event loop from then on: slower for the requests beside them, but the saves go on.
 */
export class SaveThread {
  #running: Running | null = null;
  #seq = 0;
  #failedStarts = 0;
  #onLoop: ((files: SaveFiles) => Saved) | null = null;
  readonly #source: string;
  readonly #startThread: (source: string) => Worker;
  readonly #onFallback: (why: string) => void;

  constructor(options: SaveThreadOptions = {}) {
    this.#source = options.source ?? SAVE_THREAD_SOURCE;
    this.#startThread = options.startThread ?? startEvalThread;
    this.#onFallback = options.onFallback ?? (() => undefined);
  }

  /** Saves run on the event loop: no thread could be started. */
  get onEventLoop(): boolean {
    return this.#onLoop !== null;
  }

  /** Writes the files; rejects with the failing call's error (its `code` kept). */
  run(files: SaveFiles): Promise<Saved> {
    return new Promise((resolve, reject) =>
      this.#enqueue({ files, retried: false, resolve, reject }),
    );
  }

  /** Stops the thread; saves in flight fail. The next save starts a new one. */
  async terminate(): Promise<void> {
    const running = this.#running;
    if (running) {
      running.stopping = true;
      await running.worker.terminate();
    }
  }

  #enqueue(waiter: Waiter): void {
    if (!this.#onLoop && !this.#running) {
      try {
        this.#running = this.#start();
      } catch (err) {
        this.#fallBack(`no thread could be started: ${(err as Error).message}`);
      }
    }
    const running = this.#running;
    if (!running) {
      try {
        if (!this.#onLoop) {
          throw new Error('no conversation save thread could be started');
        }
        waiter.resolve(this.#onLoop(waiter.files));
      } catch (err) {
        waiter.reject(err as Error);
      }
      return;
    }
    const seq = (this.#seq += 1);
    if (running.waiting.size === 0) {
      // A save in flight keeps the process up, as the thread pool's jobs did.
      running.worker.ref();
    }
    running.waiting.set(seq, waiter);
    running.worker.postMessage({ seq, files: waiter.files });
  }

  /** Never throws: it runs inside a thread's `error` listener too. */
  #fallBack(why: string): void {
    try {
      this.#onLoop ??= savesOnThisThread();
      this.#onFallback(why);
    } catch {
      // Without the fallback the next save tries a thread again.
    }
  }

  #start(): Running {
    const worker = this.#startThread(this.#source);
    // Each thread fails only the saves it held: a dead thread's `exit` comes a few ms after its
    // `error`, when the next save may already wait on its successor.
    const running: Running = { worker, waiting: new Map(), answered: false, stopping: false };
    worker.unref();
    worker.on('message', (reply: Reply) => {
      running.answered = true;
      this.#failedStarts = 0;
      const waiter = running.waiting.get(reply.seq);
      running.waiting.delete(reply.seq);
      if (running.waiting.size === 0) {
        worker.unref();
      }
      if (reply.error) {
        waiter?.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      } else {
        waiter?.resolve({ existed: reply.existed ?? null });
      }
    });
    const stopped = (why: string) => {
      if (this.#running === running) {
        this.#running = null;
      }
      const held = [...running.waiting.values()];
      running.waiting.clear();
      const failedStart = !running.answered && !running.stopping;
      // `exit` follows `error`: one stop, counted once (it holds nothing by then).
      running.stopping = true;
      if (failedStart) {
        this.#failedStarts += 1;
        if (this.#failedStarts >= FAILED_STARTS_BEFORE_FALLBACK) {
          this.#fallBack(`${this.#failedStarts} threads in a row stopped before saving (${why})`);
        }
      }
      const error = new Error(`the conversation save thread stopped (${why})`);
      for (const waiter of held) {
        if (failedStart && !waiter.retried) {
          this.#enqueue({ ...waiter, retried: true });
        } else {
          waiter.reject(error);
        }
      }
    };
    worker.on('error', (err) => stopped(err.message));
    worker.on('exit', (code) => stopped(`exit code ${code}`));
    return running;
  }
}

/**
 * The thread's body. It runs in a thread of its own from this text, so it is plain JavaScript:
 * the text of a compiled function may call helpers the thread does not have (tsx adds `__name`).
 * The unit tests run it through every path: order, a missing or blocked folder, a key linked
 * again, a failing call.
 */
const SAVE_STEPS = `
const fs = require('node:fs');
const codeOf = (err) => (err && typeof err.code === 'string' ? err.code : undefined);

// Someone may remove the folders while we run: a write that finds them gone makes them again.
function inFolder(keyDir, write) {
  try {
    write();
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw err;
    fs.mkdirSync(keyDir, { recursive: true });
    write();
  }
}

// Renames tmp over file; a failed rename leaves no temporary file behind.
function replace(tmp, file) {
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function linkKey(f) {
  try {
    fs.symlinkSync(f.id, f.keyFile);
  } catch (err) {
    if (codeOf(err) !== 'EEXIST') throw err;
    // The same history answered again: a new link renamed over the old one, never a gap.
    fs.symlinkSync(f.id, f.keyTmp);
    replace(f.keyTmp, f.keyFile);
  }
}

function save(f) {
  const existed = f.checkExisted ? fs.existsSync(f.file) : null;
  inFolder(f.keyDir, () => fs.writeFileSync(f.tmp, f.body));
  replace(f.tmp, f.file);
  inFolder(f.keyDir, () => linkKey(f));
  return existed;
}
`;

export const SAVE_THREAD_SOURCE = `${SAVE_STEPS}
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ seq, files: f }) => {
  try {
    parentPort.postMessage({ seq, existed: save(f) });
  } catch (err) {
    const code = codeOf(err);
    parentPort.postMessage({ seq, error: { message: String(err && err.message), ...(code ? { code } : {}) } });
  }
});
`;

/** The same steps as the thread's, compiled here: the fallback when no thread can start. */
function savesOnThisThread(): (files: SaveFiles) => Saved {
  const compile = vm.runInThisContext(`(function (require) {${SAVE_STEPS}\nreturn save;\n})`) as (
    req: NodeJS.Require,
  ) => (files: SaveFiles) => boolean | null;
  const save = compile(createRequire(import.meta.url));
  return (files) => ({ existed: save(files) });
}
