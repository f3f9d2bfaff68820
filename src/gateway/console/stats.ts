/**
 * @module gateway/console/stats
 * The console's 15-minute memory of what this gateway proxied: per node, 15-s buckets of attempts,
 * errors and latencies (time to the node's answer headers, which a worker sends with its first
 * answer text), plus totals for the header. In memory and per replica: a restart starts blank.
 */
import { UPSTREAM_SENT_HEADER } from '../../errors.ts';
import { parseUpstreamSent } from '../failover.ts';
import type { FailedAttempt } from '../failed-attempt.ts';
import type { AttemptResult } from '../upstream.ts';

/** One attempt on one node, as the proxy saw it. */
export interface ObservedAttempt {
  readonly nodeUrl: string;
  /** 1 for a request's first node, 2 for the node it failed over to, … */
  readonly attempt: number;
  /** From sending the request to the node's answer headers (or its failure). */
  readonly ms: number;
  readonly result: AttemptResult;
  /** The failure the client would get from this node; null when its answer was forwarded. */
  readonly failure: FailedAttempt | null;
  /** True when the request moved on to another node after this one. */
  readonly failedOver: boolean;
}

/** What the proxy calls after every attempt. */
export type AttemptObserver = (attempt: ObservedAttempt) => void;

/** The series a node's charts draw: one point per bucket, oldest first; times in epoch s. */
export interface NodeSeries {
  readonly t: number[];
  readonly requestsPerMin: number[];
  readonly errorPct: (number | null)[];
  readonly p50Ms: (number | null)[];
  readonly p95Ms: (number | null)[];
}

/** A node's figures over the window. */
export interface NodeFigures {
  /** Attempts in the last minute. */
  readonly requestsPerMin: number;
  /** Failed attempts over all attempts in the window, in %; null without attempts. */
  readonly errorPct: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly lastError: { readonly atMs: number; readonly text: string } | null;
  readonly series: NodeSeries;
}

/** The header's figures over the window. */
export interface TotalFigures {
  /** Requests (first attempts) in the last minute. */
  readonly requestsPerMin: number;
  /** Requests in the window. */
  readonly requests: number;
  /** Requests whose first node failed and that moved to another. */
  readonly failedOver: number;
  /** Attempts a worker says reached Google (x-upstream-sent: true). */
  readonly upstreamSends: number;
}

/** The console's window: 15 minutes of 15-s buckets. */
export const WINDOW_MS = 15 * 60_000;
/** One chart point. */
export const BUCKET_MS = 15_000;
const LATENCIES_PER_BUCKET = 500;
const ERROR_TEXT_MAX = 200;

interface Bucket {
  readonly startMs: number;
  attempts: number;
  errors: number;
  requests: number;
  failedOver: number;
  upstreamSends: number;
  latencies: number[];
}

const newBucket = (startMs: number): Bucket => ({
  startMs,
  attempts: 0,
  errors: 0,
  requests: 0,
  failedOver: 0,
  upstreamSends: 0,
  latencies: [],
});

/** The value at quantile q (0..1) of sorted values; null when empty. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) {
    return null;
  }
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] ?? null;
}

/** A short text for a failed attempt: the worker's error code and message, or the network class. */
export function describeFailure(failure: FailedAttempt): string {
  if (failure.kind === 'error') {
    return failure.error.message.slice(0, ERROR_TEXT_MAX);
  }
  let text = `HTTP ${failure.status}`;
  try {
    const parsed = JSON.parse(failure.body?.toString('utf8') ?? '') as {
      error?: { code?: unknown; message?: unknown };
    };
    const code = typeof parsed.error?.code === 'string' ? ` ${parsed.error.code}` : '';
    const message = typeof parsed.error?.message === 'string' ? `: ${parsed.error.message}` : '';
    text += `${code}${message}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return text.slice(0, ERROR_TEXT_MAX);
}

/** Per-node buckets over the last WINDOW_MS. */
export class ConsoleStats {
  private readonly nodes = new Map<string, Bucket[]>();
  private readonly lastErrors = new Map<string, { atMs: number; text: string }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records one attempt (the proxy's observer). */
  readonly record: AttemptObserver = (a) => {
    const now = this.now();
    const bucket = this.bucketAt(a.nodeUrl, now);
    bucket.attempts += 1;
    if (a.attempt === 1) {
      bucket.requests += 1;
      bucket.failedOver += a.failedOver ? 1 : 0;
    }
    const sent =
      a.result.kind === 'response'
        ? parseUpstreamSent(a.result.headers[UPSTREAM_SENT_HEADER])
        : null;
    bucket.upstreamSends += sent === true ? 1 : 0;
    if (a.failure !== null) {
      bucket.errors += 1;
      this.lastErrors.set(a.nodeUrl, { atMs: now, text: describeFailure(a.failure) });
    }
    if (bucket.latencies.length < LATENCIES_PER_BUCKET) {
      bucket.latencies.push(a.ms);
    }
  };

  /** A node's figures and chart series at `now`. */
  figures(nodeUrl: string): NodeFigures {
    const now = this.now();
    const buckets = this.live(nodeUrl, now);
    const byStart = new Map(buckets.map((b) => [b.startMs, b]));
    const first = Math.floor((now - WINDOW_MS) / BUCKET_MS + 1) * BUCKET_MS;
    const series: NodeSeries = { t: [], requestsPerMin: [], errorPct: [], p50Ms: [], p95Ms: [] };
    for (let start = first; start <= now; start += BUCKET_MS) {
      const b = byStart.get(start) ?? newBucket(start);
      const sorted = [...b.latencies].sort((x, y) => x - y);
      series.t.push(start / 1000);
      series.requestsPerMin.push(b.attempts * (60_000 / BUCKET_MS));
      series.errorPct.push(b.attempts > 0 ? (100 * b.errors) / b.attempts : null);
      series.p50Ms.push(quantile(sorted, 0.5));
      series.p95Ms.push(quantile(sorted, 0.95));
    }
    const attempts = buckets.reduce((n, b) => n + b.attempts, 0);
    const errors = buckets.reduce((n, b) => n + b.errors, 0);
    const all = buckets.flatMap((b) => b.latencies).sort((x, y) => x - y);
    return {
      requestsPerMin: buckets
        .filter((b) => b.startMs > now - 60_000)
        .reduce((n, b) => n + b.attempts, 0),
      errorPct: attempts > 0 ? (100 * errors) / attempts : null,
      p50Ms: quantile(all, 0.5),
      p95Ms: quantile(all, 0.95),
      lastError: this.lastErrors.get(nodeUrl) ?? null,
      series,
    };
  }

  /** The header's figures at `now`, over every node. */
  totals(): TotalFigures {
    const now = this.now();
    const buckets = [...this.nodes.keys()].flatMap((url) => this.live(url, now));
    const sum = (pick: (b: Bucket) => number, from = buckets) =>
      from.reduce((n, b) => n + pick(b), 0);
    return {
      requestsPerMin: sum(
        (b) => b.requests,
        buckets.filter((b) => b.startMs > now - 60_000),
      ),
      requests: sum((b) => b.requests),
      failedOver: sum((b) => b.failedOver),
      upstreamSends: sum((b) => b.upstreamSends),
    };
  }

  private bucketAt(nodeUrl: string, now: number): Bucket {
    const startMs = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    const buckets = this.live(nodeUrl, now);
    let last = buckets[buckets.length - 1];
    if (last?.startMs !== startMs) {
      last = newBucket(startMs);
      buckets.push(last);
    }
    return last;
  }

  /** The node's buckets still in the window (older ones are dropped here). */
  private live(nodeUrl: string, now: number): Bucket[] {
    const buckets = this.nodes.get(nodeUrl) ?? [];
    const keepFrom = buckets.findIndex((b) => b.startMs > now - WINDOW_MS);
    const kept = keepFrom < 0 ? [] : keepFrom === 0 ? buckets : buckets.slice(keepFrom);
    this.nodes.set(nodeUrl, kept);
    return kept;
  }
}
