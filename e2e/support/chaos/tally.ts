/**
 * What the run adds up to: the clients' outcomes by kind and status, the emulator's generate
 * records per prompt (how many answers each prompt got upstream), and the gateway's counters.
 */
import type { UpstreamRecord } from '../../../src/emulator/index.ts';
import type { ChatOutcome } from './chat-request.ts';

/** A worker killed at a moment: its generations running then were cut, not answered. */
export interface WorkerKill {
  readonly email: string;
  readonly atMs: number;
}

/** Upstream facts about the run's prompts. */
export interface UpstreamTally {
  /** Generate records carrying one of the run's prompts. */
  readonly generations: number;
  /** Generations that sent a whole answer (status 200, no failure injected, not cut by a kill). */
  readonly answered: number;
  /** Generations per account (email), answered or not. */
  readonly byAccount: Readonly<Record<string, number>>;
  /** Prompts answered more than once upstream. */
  readonly answeredTwice: readonly string[];
  /** Prompts the client got complete although no upstream generation answered them. */
  readonly okWithoutAnswer: readonly string[];
}

/** Generations whose record does not say they failed: the fault after an answer is harmless. */
function answeredUpstream(r: UpstreamRecord, kills: readonly WorkerKill[]): boolean {
  if (r.status !== 200 || (r.fault !== undefined && r.fault !== 'error_after_answer')) {
    return false;
  }
  const cut = kills.some(
    (k) => k.email === r.email && r.startedAt < k.atMs && (r.endedAt ?? Infinity) >= k.atMs,
  );
  return !cut;
}

/** Matches records to the outcomes' prompts (each prompt is unique to one request). */
export function tallyUpstream(
  records: readonly UpstreamRecord[],
  outcomes: readonly ChatOutcome[],
  kills: readonly WorkerKill[],
): UpstreamTally {
  const prompts = new Map(outcomes.map((o) => [o.prompt, o]));
  const answers = new Map<string, number>();
  const byAccount: Record<string, number> = {};
  let generations = 0;
  let answered = 0;
  for (const r of records) {
    if (r.kind !== 'generate' || r.prompt === undefined || !prompts.has(r.prompt)) {
      continue;
    }
    generations += 1;
    byAccount[r.email ?? 'unknown'] = (byAccount[r.email ?? 'unknown'] ?? 0) + 1;
    if (answeredUpstream(r, kills)) {
      answered += 1;
      answers.set(r.prompt, (answers.get(r.prompt) ?? 0) + 1);
    }
  }
  return {
    generations,
    answered,
    byAccount,
    answeredTwice: [...answers].filter(([, n]) => n > 1).map(([p]) => p),
    okWithoutAnswer: outcomes
      .filter((o) => o.kind === 'ok' && !answers.has(o.prompt))
      .map((o) => o.prompt),
  };
}

/** Outcomes counted by kind, and errors by `status code` (`stream code` for stream events). */
export function countOutcomes(outcomes: readonly ChatOutcome[]): {
  byKind: Record<string, number>;
  errors: Record<string, number>;
} {
  const byKind: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const o of outcomes) {
    byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
    if (o.kind !== 'ok') {
      const key = `${o.status ?? (o.kind === 'stream_error' ? 'stream' : o.kind)} ${o.code ?? '-'}`;
      errors[key] = (errors[key] ?? 0) + 1;
    }
  }
  return { byKind, errors };
}

/** Sums a Prometheus counter by one label, from /metrics text. */
export function counterByLabel(
  metricsText: string,
  name: string,
  label: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  const pattern = new RegExp(`^${name}\\{([^}]*)\\}\\s+(\\S+)$`);
  for (const line of metricsText.split('\n')) {
    const m = pattern.exec(line);
    if (!m) {
      continue;
    }
    const value = new RegExp(`${label}="([^"]*)"`).exec(m[1] ?? '')?.[1] ?? '';
    out[value] = (out[value] ?? 0) + Number(m[2]);
  }
  return out;
}

/** A named stretch of the run, from `fromMs` until the next phase starts. */
export interface Phase {
  readonly name: string;
  readonly fromMs: number;
}

/** Outcomes that are not 'ok', counted by the phase in which their request started. */
export function errorsByPhase(
  outcomes: readonly ChatOutcome[],
  phases: readonly Phase[],
): Record<string, number> {
  const sorted = [...phases].sort((a, b) => a.fromMs - b.fromMs);
  const out: Record<string, number> = Object.fromEntries(sorted.map((p) => [p.name, 0]));
  for (const o of outcomes.filter((x) => x.kind !== 'ok')) {
    const phase = sorted.filter((p) => p.fromMs <= o.startedAtMs).at(-1);
    if (phase) {
      out[phase.name] = (out[phase.name] ?? 0) + 1;
    }
  }
  return out;
}
