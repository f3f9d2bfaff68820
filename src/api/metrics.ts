/**
 * The worker's Prometheus metrics: its own registry, request and latency figures, and the node
 * state the gateway also exports (status, in-flight, cooldown, login), read at scrape time.
 */
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DRIFT_KINDS, SEND_OUTCOMES } from '../gemini/index.ts';
import { dialectOf } from './dialects.ts';

export interface NodeState {
  status: string;
  loginState: string;
  currentTasks: number;
  queueWaiting: number;
  cooldownRemainingS: number;
}

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Express middleware counting requests and timing them. */
  readonly middleware: (req: Request, res: Response, next: NextFunction) => void;
  /** Time from request to first answer text. */
  readonly firstTokenSeconds: Histogram;
  readonly upstreamFailures: Counter<'kind'>;
  /** Every StreamGenerate send this process made, by outcome (DESIGN.md, at most once). */
  readonly upstreamSends: Counter<'outcome'>;
  /** Replies in shapes the parsers do not know, by kind (protocol drift). */
  readonly protocolDrift: Counter<'kind'>;
}

const STATUSES = ['HEALTHY', 'BUSY', 'INIT', '429_LIMIT', 'OFFLINE'];
const LOGIN_STATES = ['logged_in', 'login_required', 'browser_unreachable', 'unknown'];

export function createWorkerMetrics(nodeLabel: string, readState: () => NodeState): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node: nodeLabel });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'gk_http_requests_total',
    help: 'HTTP requests by route, status and client dialect (openai, anthropic, google)',
    labelNames: ['route', 'status', 'dialect'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'gk_http_request_seconds',
    help: 'HTTP request duration',
    labelNames: ['route', 'dialect'],
    buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const firstTokenSeconds = new Histogram({
    name: 'gk_first_token_seconds',
    help: 'Time to the first answer text',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const upstreamFailures = new Counter({
    name: 'gk_upstream_failures_total',
    help: 'Upstream failures by class',
    labelNames: ['kind'],
    registers: [registry],
  });
  const upstreamSends = new Counter({
    name: 'gk_upstream_sends_total',
    help: 'StreamGenerate sends by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  // Every label present from the start, so a rate() sees the first send of each.
  SEND_OUTCOMES.forEach((outcome) => upstreamSends.inc({ outcome }, 0));
  const protocolDrift = new Counter({
    name: 'gk_protocol_drift_total',
    help: 'Upstream replies in a shape the parsers do not know, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  DRIFT_KINDS.forEach((kind) => protocolDrift.inc({ kind }, 0));
  new Gauge({
    name: 'gk_node_status',
    help: '1 for the node status in effect',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const s = readState().status;
      STATUSES.forEach((st) => this.set({ status: st }, st === s ? 1 : 0));
    },
  });
  new Gauge({
    name: 'gk_node_login_state',
    help: '1 for the login state in effect',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = readState().loginState;
      LOGIN_STATES.forEach((st) => this.set({ state: st }, st === s ? 1 : 0));
    },
  });
  new Gauge({
    name: 'gk_node_in_flight',
    help: 'Requests in flight',
    registers: [registry],
    collect() {
      this.set(readState().currentTasks);
    },
  });
  new Gauge({
    name: 'gk_node_queue_waiting',
    help: 'Jobs waiting in the account queue',
    registers: [registry],
    collect() {
      this.set(readState().queueWaiting);
    },
  });
  new Gauge({
    name: 'gk_node_cooldown_remaining_seconds',
    help: 'Seconds until the cooldown ends',
    registers: [registry],
    collect() {
      this.set(readState().cooldownRemainingS);
    },
  });

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = latency.startTimer();
    res.on('close', () => {
      const routePath = (req.route as { path?: unknown } | undefined)?.path;
      const route =
        typeof routePath === 'string'
          ? routePath
          : req.path.startsWith('/images/')
            ? '/images'
            : 'other';
      const dialect = dialectOf(req.originalUrl.split('?')[0] ?? '');
      requests.inc({ route, status: String(res.statusCode), dialect });
      end({ route, dialect });
    });
    next();
  };
  return {
    registry,
    middleware,
    firstTokenSeconds,
    upstreamFailures,
    upstreamSends,
    protocolDrift,
  };
}
