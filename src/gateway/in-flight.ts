/**
 * @module gateway/in-flight
 * Requests this gateway has sent to each node and not yet finished. The balancer adds them to a
 * node's reported current_tasks, so a burst spreads before the next heartbeat shows it.
 */

/** Per-node in-flight counter. */
export interface InFlight {
  /** Counts one request on the node; the returned release (idempotent) uncounts it. */
  acquire(nodeUrl: string): () => void;
  /** The current counts (nodes with none are absent). */
  counts(): ReadonlyMap<string, number>;
}

/** Creates an empty counter. */
export function createInFlight(): InFlight {
  const counts = new Map<string, number>();
  return {
    acquire(nodeUrl) {
      counts.set(nodeUrl, (counts.get(nodeUrl) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) {
          return;
        }
        released = true;
        const left = (counts.get(nodeUrl) ?? 1) - 1;
        if (left > 0) {
          counts.set(nodeUrl, left);
        } else {
          counts.delete(nodeUrl);
        }
      };
    },
    counts: () => counts,
  };
}
