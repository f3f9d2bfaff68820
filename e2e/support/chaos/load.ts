/**
 * An open-loop load with a bound on concurrency: request i is issued no earlier than
 * `start + i * intervalMs` and only when one of `concurrency` slots is free, so faults timed by
 * request count land at known moments of the run whatever the nodes' speed.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** How the load runs. */
export interface LoadOptions<T> {
  readonly total: number;
  readonly concurrency: number;
  /** Pacing between issues; 0 issues as fast as the slots allow. */
  readonly intervalMs: number;
  /** Runs before request `index` is issued (faults start and gates wait here). */
  readonly beforeIssue?: (index: number) => Promise<void>;
  /** Sends request `index`; must not throw. */
  send(index: number): Promise<T>;
}

/** Runs the load; resolves with every result, in index order. */
export async function runLoad<T>(options: LoadOptions<T>): Promise<T[]> {
  const results = new Array<T>(options.total);
  const startedAtMs = Date.now();
  let next = 0;
  // Indexes are taken in order, and each slot awaits its own gate before it sends.
  const slot = async (): Promise<void> => {
    for (let index = next++; index < options.total; index = next++) {
      const dueMs = startedAtMs + index * options.intervalMs - Date.now();
      if (dueMs > 0) {
        await sleep(dueMs);
      }
      await options.beforeIssue?.(index);
      results[index] = await options.send(index);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, slot));
  return results;
}
