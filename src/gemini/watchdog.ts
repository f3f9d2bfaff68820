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
  /** Stops it for good: the timer is cleared (a later arm() starts a new one). */
  stop(): void;
  readonly fired: boolean;
}

/**
 * A watchdog that calls `onFire` once `timeoutMs` pass while armed. It keeps one timer for its
 * whole life and re-arms it with `refresh()`: a reply re-arms it once per chunk, and a new timer
 * each time was a steady source of garbage. While disarmed the timer is unref'd and its firing
 * ignored, so it neither fires nor holds the process open. But an unref'd timer still sits in
 * the timer list until it would have fired, holding `onFire` and what it reaches (the call's
 * controller and its signal): stop() at the call's end clears it. Without it every finished call
 * stayed reachable for the stall timeout (two minutes by default), about 650 calls at 20 requests
 * a second.
 */
export function createWatchdog(timeoutMs: number, onFire: () => void): Watchdog {
  let timer: NodeJS.Timeout | null = null;
  let armed = false;
  let fired = false;
  const fire = (): void => {
    if (armed) {
      armed = false;
      fired = true;
      onFire();
    }
  };
  return {
    arm() {
      armed = true;
      if (timer) {
        timer.refresh().ref();
      } else {
        timer = setTimeout(fire, timeoutMs);
      }
    },
    disarm() {
      armed = false;
      timer?.unref();
    },
    stop() {
      armed = false;
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    },
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
