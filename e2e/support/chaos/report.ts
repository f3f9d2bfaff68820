/**
 * The printed account of a chaos run: outcomes, errors by status and by phase, when each fault
 * ran, latencies, the gateway's failover counters and the upstream generations.
 */
import type { ChatOutcome } from './chat-request.ts';
import type { FaultRun } from './fault-schedule.ts';
import { ADMIN_HEADERS } from './keys.ts';
import {
  counterByLabel,
  countOutcomes,
  errorsByPhase,
  type Phase,
  type UpstreamTally,
} from './tally.ts';

/** The gateway's counters the report shows. */
export interface GatewayCounters {
  readonly failovers: Record<string, number>;
  readonly attempts: Record<string, number>;
}

/** Reads failovers by reason and upstream attempts by outcome from the gateway's /metrics. */
export async function readGatewayCounters(gatewayUrl: string): Promise<GatewayCounters> {
  const text = await (await fetch(`${gatewayUrl}/metrics`, { headers: ADMIN_HEADERS })).text();
  return {
    failovers: counterByLabel(text, 'gateway_failovers_total', 'reason'),
    attempts: counterByLabel(text, 'gateway_upstream_attempts_total', 'outcome'),
  };
}

/** Everything the report is made of. */
export interface ChaosReport {
  readonly loadStartedAtMs: number;
  readonly loadMs: number;
  readonly testMs: number;
  readonly outcomes: readonly ChatOutcome[];
  readonly faults: readonly FaultRun[];
  readonly phases: readonly Phase[];
  readonly counters: GatewayCounters;
  readonly tally: UpstreamTally;
  /** Free-form notes (what a fault saw). */
  readonly notes: readonly string[];
}

/** p50, p95 and max of the complete answers' durations, in ms. */
export function latencies(outcomes: readonly ChatOutcome[]): Record<string, number> {
  const ms = outcomes
    .filter((o) => o.kind === 'ok')
    .map((o) => o.endedAtMs - o.startedAtMs)
    .sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  return { p50: at(0.5), p95: at(0.95), max: ms.at(-1) ?? 0 };
}

/** The report as printed lines. */
export function formatReport(r: ChaosReport): string {
  const { byKind, errors } = countOutcomes(r.outcomes);
  const seconds = (ms: number | null) =>
    ms === null ? '-' : ((ms - r.loadStartedAtMs) / 1000).toFixed(1);
  const faults = r.faults.map(
    (f) => `${f.name} @#${f.atRequest} ${seconds(f.startedAtMs)}-${seconds(f.endedAtMs)} s`,
  );
  const json = (v: unknown) => JSON.stringify(v);
  return [
    `chaos: ${r.outcomes.length} requests, load ${r.loadMs} ms, test ${r.testMs} ms`,
    `  outcomes ${json(byKind)}; latency of complete answers (ms) ${json(latencies(r.outcomes))}`,
    `  errors ${json(errors)}`,
    `  errors by phase ${json(errorsByPhase(r.outcomes, r.phases))}`,
    `  faults (s after the load started): ${faults.join('; ')}`,
    `  gateway failovers ${json(r.counters.failovers)}, attempts ${json(r.counters.attempts)}`,
    `  upstream sends ${r.tally.generations} for ${r.tally.requests} requests + ${r.tally.provenRejections} proven rejections; answered ${r.tally.answered}, by account ${json(r.tally.byAccount)}`,
    ...r.notes.map((n) => `  ${n}`),
  ].join('\n');
}
