/**
 * What the run adds up to: the clients' outcomes by kind and status, the emulator's generate
 * records per prompt (how many times each prompt was sent upstream, how many answers it got), and
 * the gateway's counters. Prompts are unique per request, so a prompt's records are its sends.
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
  /** Requests made (outcomes). */
  readonly requests: number;
  /** Generate records carrying one of the run's prompts: every upstream send. */
  readonly generations: number;
  /** Sends Google provably refused before generating (an HTTP error, a rejection code). */
  readonly provenRejections: number;
  /** Prompts sent more than once beyond their proven rejections, with their send counts. */
  readonly duplicateSends: readonly string[];
  /** Generations that sent a whole answer (status 200, no failure injected, not cut by a kill). */
  readonly answered: number;
  /** Generations per account (email), answered or not. */
  readonly byAccount: Readonly<Record<string, number>>;
  /** Prompts answered more than once upstream. */
  readonly answeredTwice: readonly string[];
  /** Prompts the client got complete although no upstream generation answered them. */
  readonly okWithoutAnswer: readonly string[];
}

/** Faults after which Google may have taken the prompt: never a proven rejection. */
const MAYBE_TAKEN = new Set(['stall', 'drop', 'error_after_answer']);

/**
 * A send Google provably did not take: an HTTP error status before any body, or a fault that
 * refuses the request before generation (1037 quota, 1060, 1013, 1097, 1050/1052, /sorry).
 */
export function isProvenRejection(r: UpstreamRecord): boolean {
  return r.status !== 200 || (r.fault !== undefined && !MAYBE_TAKEN.has(r.fault));
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
  const unproven = new Map<string, number>();
  const byAccount: Record<string, number> = {};
  let generations = 0;
  let answered = 0;
  let provenRejections = 0;
  for (const r of records) {
    if (r.kind !== 'generate' || r.prompt === undefined || !prompts.has(r.prompt)) {
      continue;
    }
    generations += 1;
    if (isProvenRejection(r)) {
      provenRejections += 1;
    } else {
      unproven.set(r.prompt, (unproven.get(r.prompt) ?? 0) + 1);
    }
    byAccount[r.email ?? 'unknown'] = (byAccount[r.email ?? 'unknown'] ?? 0) + 1;
    if (answeredUpstream(r, kills)) {
      answered += 1;
      answers.set(r.prompt, (answers.get(r.prompt) ?? 0) + 1);
    }
  }
  return {
    requests: outcomes.length,
    generations,
    provenRejections,
    duplicateSends: [...unproven].filter(([, n]) => n > 1).map(([p, n]) => `${p} (${n} sends)`),
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
