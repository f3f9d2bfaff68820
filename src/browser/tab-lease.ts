/**
 * Who may use the worker's tab right now. A reload destroys every fetch the page transport has in
 * flight, so page fetches hold the tab shared (until their body ends) and a reload takes it alone:
 * it waits for the holders to finish (at most `maxWaitMs`), and new holders wait for the reload.
 */

/** A shared hold on the tab; `release()` is idempotent. */
export interface TabHold {
  readonly release: () => void;
}

/** The tab's lease. */
export class TabLease {
  private holders = 0;
  private drained: (() => void) | null = null;
  private reloading: Promise<void> | null = null;

  constructor(private readonly maxWaitMs: number) {}

  /** How many holds are out. */
  get holds(): number {
    return this.holders;
  }

  /** Waits out a reload in progress, then holds the tab until `release()`. */
  async hold(): Promise<TabHold> {
    while (this.reloading) {
      await this.reloading.catch(() => undefined);
    }
    this.holders += 1;
    let released = false;
    return {
      release: () => {
        if (!released) {
          released = true;
          this.holders -= 1;
          if (this.holders === 0) {
            this.drained?.();
          }
        }
      },
    };
  }

  /** Runs `reload` once no hold is out (or `maxWaitMs` passed); holds asked meanwhile wait. */
  async exclusive<T>(reload: () => Promise<T>): Promise<T> {
    while (this.reloading) {
      await this.reloading.catch(() => undefined);
    }
    const run = this.waitForHolders().then(reload);
    this.reloading = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.reloading = null;
    }
  }

  private async waitForHolders(): Promise<void> {
    if (this.holders === 0) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
      timer = setTimeout(resolve, this.maxWaitMs);
      timer.unref();
    });
    clearTimeout(timer);
    this.drained = null;
  }
}
