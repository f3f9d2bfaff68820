/**
 * @module gateway/request-metrics
 * Every request the gateway answers, counted by route, status, stream and dialect and timed, when
 * its response closes: from express's first middleware, or from the fast path (fast-path.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { dialectOf } from '../api/index.ts';
import { GOOGLE_ROUTE, PROXIED_ROUTES } from './dialect-routes.ts';
import type { GatewayMetrics } from './metrics.ts';

const ROUTES = new Set([
  '/',
  '/console/state',
  '/console/nodes/action',
  '/console/nodes/screenshot',
  '/dashboard/nodes',
  '/api/nodes',
  '/health',
  '/ready',
  '/metrics',
  '/v1/models',
  '/upload',
  GOOGLE_ROUTE.path,
  ...PROXIED_ROUTES.map((r) => r.path),
]);
const ROUTE_PREFIXES = ['/v1/models/:id', '/conversations/:id', '/images/*'] as const;
/** The client API (what the per-dialect counts count): /v1/… and /v1beta/…. */
const CLIENT_API = /^\/v1(beta)?\//;
/** Gemini's model paths, by method: `/v1beta/models/{model}:generateContent`… */
const GOOGLE_MODEL_PATH =
  /^\/v1beta\/models\/[^/:]+(?::(generateContent|streamGenerateContent|countTokens))?$/;

/** The route label of a path (its query left off): the route's pattern, or 'other'. */
export function routeLabel(path: string): string {
  if (ROUTES.has(path)) {
    return path;
  }
  const google = GOOGLE_MODEL_PATH.exec(path);
  if (google) {
    return `/v1beta/models/:model${google[1] === undefined ? '' : `:${google[1]}`}`;
  }
  const prefixed = ROUTE_PREFIXES.find((p) => path.startsWith(p.replace(/[^/]+$/, '')));
  return prefixed ?? 'other';
}

/**
 * Counts and times the request of `res` when the response closes; `isStream` is asked then.
 * A response closed before it was complete counts as 499 (nginx's "client closed request").
 */
export function countOnClose(
  metrics: GatewayMetrics,
  res: ServerResponse,
  path: string,
  isStream: () => boolean,
): void {
  const startedAt = performance.now();
  res.once('close', () => {
    const status = String(res.writableFinished ? res.statusCode : 499);
    const labels = {
      route: routeLabel(path),
      status,
      stream: String(isStream()),
      dialect: dialectOf(path),
    };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, (performance.now() - startedAt) / 1000);
    if (CLIENT_API.test(path)) {
      metrics.dialects.count(labels.dialect, Number(status));
    }
  });
}

/** Counts every request express answers (its first middleware). */
export function countRequests(metrics: GatewayMetrics): RequestHandler {
  return function requestMetrics(req: Request, res, next) {
    const path = req.originalUrl.split('?')[0] ?? '';
    countOnClose(metrics, res, path, () => res.locals['stream'] === true);
    next();
  };
}
