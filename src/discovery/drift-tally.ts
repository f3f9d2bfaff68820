/**
 * The worker's protocol drift, by kind, since it started: what /health shows and the heartbeat
 * writes to the registry. The Prometheus counter (gk_protocol_drift_total) is fed alongside.
 */
import type { DriftKind } from '../gemini/index.ts';

/** Counts of drift by kind. */
export interface DriftTally {
  record(kind: DriftKind): void;
  /** Kinds seen at least once, with their counts. */
  counts(): Record<string, number>;
  readonly total: number;
}

/** An empty tally; `onRecord` is told of every record (the metrics counter). */
export function createDriftTally(
  onRecord: (kind: DriftKind) => void = () => undefined,
): DriftTally {
  const counts = new Map<DriftKind, number>();
  let total = 0;
  return {
    record(kind) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
      total += 1;
      onRecord(kind);
    },
    counts: () => Object.fromEntries(counts),
    get total() {
      return total;
    },
  };
}
