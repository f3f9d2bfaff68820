/**
 * A response body fed by pushes (the page's binding calls) and read as an async iterable. Nothing
 * is buffered beyond what arrived and was not read yet; a reader that stops early calls
 * `onRelease` so the sender can stop too.
 */

/** The pushing side and the readable side of one body. */
export interface ChunkQueue extends AsyncIterable<Uint8Array> {
  push(chunk: Uint8Array): void;
  /** The body is complete. */
  end(): void;
  /** The body broke: the reader's next read throws `err`. Later calls change nothing. */
  fail(err: unknown): void;
  /** The reader will not read on: drops the rest and calls `onRelease` if not yet settled. */
  release(): void;
  /** Resolves once the reader took every chunk pushed so far (or the body settled). */
  whenDrained(): Promise<void>;
  /** Resolves once the body ended, failed, or its reader left. */
  readonly done: Promise<void>;
}

/** An empty queue; `onRelease` runs once if the reader leaves before the end. */
export function createChunkQueue(onRelease: () => void): ChunkQueue {
  const chunks: Uint8Array[] = [];
  let outcome: { err: unknown } | 'end' | null = null;
  let wake: (() => void) | null = null;
  let settle: () => void = () => undefined;
  let drainWaiters: (() => void)[] = [];
  const done = new Promise<void>((resolve) => (settle = resolve));
  const drained = () => {
    const waiters = drainWaiters;
    drainWaiters = [];
    waiters.forEach((resolve) => resolve());
  };
  const notify = () => {
    wake?.();
    wake = null;
    if (outcome !== null) {
      settle();
      drained();
    }
  };
  const release = () => {
    if (outcome === null) {
      outcome = { err: new Error('released') };
      chunks.length = 0;
      settle();
      drained();
      onRelease();
    }
  };
  return {
    push(chunk) {
      if (outcome === null) {
        chunks.push(chunk);
        notify();
      }
    },
    end() {
      outcome ??= 'end';
      notify();
    },
    fail(err) {
      outcome ??= { err };
      notify();
    },
    release,
    whenDrained() {
      return chunks.length === 0 || outcome !== null
        ? Promise.resolve()
        : new Promise((resolve) => drainWaiters.push(resolve));
    },
    done,
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const next = chunks.shift();
          if (next) {
            if (chunks.length === 0) {
              drained();
            }
            yield next;
          } else if (outcome === 'end') {
            return;
          } else if (outcome !== null) {
            throw outcome.err;
          } else {
            await new Promise<void>((resolve) => (wake = resolve));
          }
        }
      } finally {
        release();
      }
    },
  };
}
