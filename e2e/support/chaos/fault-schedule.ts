/**
 * Faults timed by request count: each starts when its request is about to be issued (and not
 * before its earliest moment), runs beside the load, and may hold later requests until it is
 * done, so that part of the load surely runs after it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** One fault of the run. */
export interface ChaosFault {
  readonly name: string;
  /** Starts when request #atRequest is about to be issued. */
  readonly atRequest: number;
  /** Waits (beside the load) until this moment before it runs. */
  readonly notBeforeMs?: number;
  /** Requests from this index on wait until the fault has run. */
  readonly holdFrom?: number;
  /** Bound on run(), past which the fault counts as failed. */
  readonly timeoutMs: number;
  run(): Promise<void>;
}

/** What happened to one fault. */
export interface FaultRun {
  readonly name: string;
  readonly atRequest: number;
  startedAtMs: number | null;
  endedAtMs: number | null;
  error: string | null;
}

/** The schedule: plug beforeIssue into the load, then read runs(). */
export interface FaultSchedule {
  beforeIssue(index: number): Promise<void>;
  /** Resolves when every started fault has ended. */
  settled(): Promise<void>;
  runs(): readonly FaultRun[];
}

/** Builds a schedule over `faults`. */
export function createFaultSchedule(faults: readonly ChaosFault[]): FaultSchedule {
  const entries = faults.map((fault) => {
    const run: FaultRun = {
      name: fault.name,
      atRequest: fault.atRequest,
      startedAtMs: null,
      endedAtMs: null,
      error: null,
    };
    return { fault, run, done: deferred(), started: false };
  });
  return {
    async beforeIssue(index) {
      // <= rather than ===: a slot may reach a later index first; no fault is ever skipped.
      for (const e of entries.filter((x) => !x.started && x.fault.atRequest <= index)) {
        e.started = true;
        void runFault(e.fault, e.run).finally(e.done.resolve);
      }
      const held = entries.filter(
        (e) => e.fault.holdFrom !== undefined && index >= e.fault.holdFrom,
      );
      await Promise.all(held.map((e) => e.done.promise));
    },
    settled: async () => {
      await Promise.all(entries.filter((e) => e.started).map((e) => e.done.promise));
    },
    runs: () => entries.map((e) => e.run),
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function runFault(fault: ChaosFault, run: FaultRun): Promise<void> {
  const waitMs = (fault.notBeforeMs ?? 0) - Date.now();
  if (waitMs > 0) {
    await sleep(waitMs);
  }
  run.startedAtMs = Date.now();
  try {
    const timeout = sleep(fault.timeoutMs, 'timeout' as const, { ref: false });
    const end = await Promise.race([fault.run().then(() => 'done' as const), timeout]);
    if (end === 'timeout') {
      run.error = `did not finish within ${fault.timeoutMs} ms`;
    }
  } catch (err) {
    run.error = err instanceof Error ? err.message : String(err);
  } finally {
    run.endedAtMs = Date.now();
  }
}
