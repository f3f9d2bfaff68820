/**
 * The chat and rpc jobs running in this process, by id, so that a cancel (the client left, from
 * this process or another) aborts the right one, even when it arrives before the job starts.
 */

/** A client went away: the reason its job is aborted. */
export class ClientCancelledError extends Error {
  constructor() {
    super('The client went away; the request was cancelled.');
    this.name = 'ClientCancelledError';
  }
}

/** Running jobs of this process, and cancels that arrived before their job started here. */
export class CancelRegistry {
  private readonly running = new Map<string, AbortController>();
  private readonly early = new Map<string, number>();
  private readonly uncounted = new Set<string>();

  constructor(private readonly rememberMs = 60_000) {}

  /**
   * Tracks a job; aborts it at once when its cancel came first. Returns the untrack function.
   * An uncounted job (an rpc) can be cancelled but is not a request in flight (`size`).
   */
  register(id: string, controller: AbortController, counted = true): () => void {
    this.running.set(id, controller);
    if (!counted) {
      this.uncounted.add(id);
    }
    if (this.early.delete(id)) {
      controller.abort(new ClientCancelledError());
    }
    return () => {
      // A run that ended after another took its id (an early run its claim queued) leaves it be.
      if (this.running.get(id) === controller) {
        this.running.delete(id);
        this.uncounted.delete(id);
      }
    };
  }

  /** A cancel message: aborts the job if it runs here, else remembers it for a while. */
  cancel(id: string, nowMs = Date.now()): void {
    const running = this.running.get(id);
    if (running) {
      running.abort(new ClientCancelledError());
      return;
    }
    for (const [key, at] of this.early) {
      if (nowMs - at > this.rememberMs) {
        this.early.delete(key);
      }
    }
    this.early.set(id, nowMs);
  }

  /** Aborts everything running here (shutdown past its grace period). */
  abortAll(reason: unknown): void {
    for (const controller of this.running.values()) {
      controller.abort(reason);
    }
  }

  /** Chat jobs running here. */
  get size(): number {
    return this.running.size - this.uncounted.size;
  }
}
