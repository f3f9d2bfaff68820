/**
 * Stall detection: a timer that runs only while we wait for upstream, so a slow consumer is never
 * mistaken for a silent server.
 */

/** An idle timer; `fired` stays true once it has gone off. */
export interface Watchdog {
  /** (Re)starts the countdown. */
  arm(): void;
  /** Stops the countdown. */
  disarm(): void;
  readonly fired: boolean;
}

/** A watchdog that calls `onFire` once `timeoutMs` pass while armed. */
export function createWatchdog(timeoutMs: number, onFire: () => void): Watchdog {
  let timer: NodeJS.Timeout | null = null;
  let fired = false;
  const disarm = () => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
  };
  return {
    arm() {
      disarm();
      timer = setTimeout(() => {
        timer = null;
        fired = true;
        onFire();
      }, timeoutMs);
    },
    disarm,
    get fired() {
      return fired;
    },
  };
}

/** Passes `source` through, with the watchdog armed only while waiting for the next chunk. */
export async function* watchIdle<T>(source: AsyncIterable<T>, dog: Watchdog): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      dog.arm();
      const step = await it.next();
      dog.disarm();
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    dog.disarm();
    if (!done) {
      // Releases the source early (a consumer's break); its own failure is not news by then.
      await Promise.resolve(it.return?.()).catch(() => undefined);
    }
  }
}
