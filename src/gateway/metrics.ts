/**
 * @module gateway/metrics
 * The gateway's prom-client metrics, on their own Registry (never the global one, so two gateways
 * in one process, as in tests, do not collide). Node gauges are computed at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DIALECTS, type Dialect } from '../api/index.ts';
import { nodeState, type NodeState } from './balancer.ts';
import type { NodeProvider, NodeRecord } from './types.ts';

/** The gateway's instruments. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Finished requests by route, status, stream and client dialect. */
  readonly requests: Counter<'route' | 'status' | 'stream' | 'dialect'>;
  /** Attempts moved to another node, by reason. */
  readonly failovers: Counter<'reason'>;
  /** Upstream attempts by outcome (a status, or a network class). */
  readonly attempts: Counter<'outcome'>;
  /** Request start to the first body byte sent to the client. */
  readonly timeToFirstByte: Histogram<'stream'>;
  /** Request start to its end. */
  readonly duration: Histogram<'route' | 'status' | 'stream' | 'dialect'>;
  /** Client API requests by dialect, for the summary JSON (/api/nodes). */
  readonly dialects: DialectTally;
}

/** Requests and errors (status >= 400) of one dialect since the gateway started. */
export interface DialectCount {
  readonly requests: number;
  readonly errors: number;
}

/** Counts client API requests by dialect. */
export interface DialectTally {
  count(dialect: Dialect, status: number): void;
  snapshot(): Record<Dialect, DialectCount>;
}

/** A tally with every dialect at zero. */
export function createDialectTally(): DialectTally {
  const counts = new Map<Dialect, { requests: number; errors: number }>(
    DIALECTS.map((d) => [d, { requests: 0, errors: 0 }]),
  );
  return {
    count(dialect, status) {
      const c = counts.get(dialect);
      if (c) {
        c.requests += 1;
        c.errors += status >= 400 ? 1 : 0;
      }
    },
    snapshot: () =>
      Object.fromEntries(DIALECTS.map((d) => [d, { ...counts.get(d) }])) as Record<
        Dialect,
        DialectCount
      >,
  };
}

/** Everything the node gauges read at scrape time. */
export interface NodeGaugeSource {
  readonly nodes: NodeProvider;
  readonly nodeFreshMs: number;
  inFlight(): ReadonlyMap<string, number>;
  now(): number;
}

const STATES: readonly NodeState[] = [
  'eligible',
  'stale',
  'offline',
  'draining',
  'starting',
  'cooling',
  'login_required',
  'drained',
];
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Creates the metrics; node gauges read `source` whenever /metrics is scraped. */
export function createGatewayMetrics(source: NodeGaugeSource): GatewayMetrics {
  const registry = new Registry();
  registerNodeGauges(registry, source);
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'gateway_requests_total',
      help: 'Requests answered by the gateway',
      labelNames: ['route', 'status', 'stream', 'dialect'],
      registers,
    }),
    failovers: new Counter({
      name: 'gateway_failovers_total',
      help: 'Requests moved to another node before any byte reached the client',
      labelNames: ['reason'],
      registers,
    }),
    attempts: new Counter({
      name: 'gateway_upstream_attempts_total',
      help: 'Attempts against worker nodes by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    timeToFirstByte: new Histogram({
      name: 'gateway_time_to_first_byte_seconds',
      help: 'From request start to the first body byte sent to the client',
      labelNames: ['stream'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    duration: new Histogram({
      name: 'gateway_request_duration_seconds',
      help: 'From request start to its end',
      labelNames: ['route', 'status', 'stream', 'dialect'],
      buckets: LATENCY_BUCKETS_S,
      registers,
    }),
    dialects: createDialectTally(),
  };
}

type Sample<L extends string> = readonly [Record<L, string>, number];

/** A gauge recomputed from the registry snapshot at each scrape. */
function snapshotGauge<L extends string>(
  registry: Registry,
  source: NodeGaugeSource,
  def: { name: string; help: string; labelNames: readonly L[] },
  samples: (nodes: readonly NodeRecord[], now: number) => Iterable<Sample<L>>,
): void {
  const gauge: Gauge<L> = new Gauge<L>({
    ...def,
    registers: [registry],
    collect() {
      gauge.reset();
      for (const [labels, value] of samples(source.nodes.snapshot().nodes, source.now())) {
        gauge.set(labels as Partial<Record<L, string>>, value);
      }
    },
  });
}

/** Node states (counts), and per node: eligibility, reported tasks, this gateway's in-flight. */
function registerNodeGauges(registry: Registry, source: NodeGaugeSource): void {
  registerStateGauges(registry, source);
  registerLoadGauges(registry, source);
  registerTableAgeGauge(registry, source);
}

/** How old the node table routed on is: it grows while PostgreSQL is unreachable. */
function registerTableAgeGauge(registry: Registry, source: NodeGaugeSource): void {
  const gauge: Gauge = new Gauge({
    name: 'gateway_node_table_age_seconds',
    help: 'Seconds since the node table was last read from PostgreSQL (absent before the first read)',
    registers: [registry],
    collect() {
      gauge.reset();
      const { fetchedAtMs } = source.nodes.snapshot();
      if (fetchedAtMs > 0) {
        gauge.set(Math.max(0, source.now() - fetchedAtMs) / 1000);
      }
    },
  });
}

function registerStateGauges(registry: Registry, source: NodeGaugeSource): void {
  const fresh = source.nodeFreshMs;
  snapshotGauge(
    registry,
    source,
    { name: 'gateway_nodes', help: 'Registered nodes by state', labelNames: ['state'] },
    (nodes, now) => {
      const counts = new Map<NodeState, number>(STATES.map((s) => [s, 0]));
      nodes.forEach((n) => {
        const state = nodeState(n, now, fresh);
        counts.set(state, (counts.get(state) ?? 0) + 1);
      });
      return [...counts].map(([state, count]) => [{ state }, count] as const);
    },
  );
  snapshotGauge(
    registry,
    source,
    {
      name: 'gateway_node_eligible',
      help: '1 when the node can be chosen now',
      labelNames: ['node', 'worker_id', 'state'],
    },
    (nodes, now) =>
      nodes.map((n) => {
        const state = nodeState(n, now, fresh);
        return [
          { node: n.nodeUrl, worker_id: n.workerId ?? '', state },
          state === 'eligible' ? 1 : 0,
        ] as const;
      }),
  );
}

function registerLoadGauges(registry: Registry, source: NodeGaugeSource): void {
  snapshotGauge(
    registry,
    source,
    {
      name: 'gateway_node_current_tasks',
      help: 'current_tasks as the node last reported it',
      labelNames: ['node'],
    },
    (nodes) => nodes.map((n) => [{ node: n.nodeUrl }, n.currentTasks] as const),
  );
  snapshotGauge(
    registry,
    source,
    {
      name: 'gateway_node_in_flight',
      help: 'Requests this gateway has sent to the node and not yet finished',
      labelNames: ['node'],
    },
    (nodes) =>
      nodes.map((n) => [{ node: n.nodeUrl }, source.inFlight().get(n.nodeUrl) ?? 0] as const),
  );
}
