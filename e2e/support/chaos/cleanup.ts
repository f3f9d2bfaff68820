/**
 * Everything a test started, undone in reverse order at the end, whatever failed half-way.
 */

/** A stack of undo steps; close() runs each once and never throws. */
export interface Cleanup {
  add(name: string, undo: () => Promise<void> | void): void;
  /** Runs the steps newest first; resolves with the ones that failed. Idempotent. */
  close(): Promise<string[]>;
}

/** An empty cleanup stack. */
export function createCleanup(): Cleanup {
  const steps: { name: string; undo: () => Promise<void> | void }[] = [];
  let closing: Promise<string[]> | null = null;
  return {
    add(name, undo) {
      steps.push({ name, undo });
    },
    close() {
      closing ??= (async () => {
        const failed: string[] = [];
        for (const step of steps.splice(0).reverse()) {
          try {
            await step.undo();
          } catch (err) {
            failed.push(`${step.name}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        return failed;
      })();
      return closing;
    },
  };
}
