/**
 * @module gateway/suspects
 * Nodes that just refused a connection. Until their heartbeat goes stale (15 s) they still look
 * eligible, and idle, so every request would try them first; a short penalty sends requests
 * elsewhere meanwhile, and still uses them when nothing else can serve.
 */

/** Per-node "refused a connection recently" marks. */
export interface Suspects {
  /** Marks the node for `forMs` from now. */
  mark(nodeUrl: string, now: number): void;
  /** The nodes marked at `now`, added to `base`. */
  with(base: ReadonlySet<string>, now: number): ReadonlySet<string>;
}

/** A node that refused a connection is avoided this long. */
export const SUSPECT_MS = 5_000;

export function createSuspects(forMs = SUSPECT_MS): Suspects {
  const until = new Map<string, number>();
  return {
    mark(nodeUrl, now) {
      until.set(nodeUrl, now + forMs);
    },
    with(base, now) {
      const out = new Set(base);
      for (const [url, end] of until) {
        if (end <= now) {
          until.delete(url);
        } else {
          out.add(url);
        }
      }
      return out;
    },
  };
}
