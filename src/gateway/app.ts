/**
 * @module gateway/app
 * The gateway's express app: the OpenAI surface (/v1/models, /v1/chat/completions) and /images
 * behind a key, the admin pages (/, /dashboard/nodes, /api/nodes, /metrics) behind an admin key
 * (HTTP Basic works, so a browser can open the dashboard), and /health, open but terse.
 */
import { randomBytes } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { Dispatcher } from 'undici';
import { ModelNotFoundError, NotFoundError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { dashboardCsp, renderDashboard, renderNodeTable } from './dashboard.ts';
import {
  authenticate,
  errorHandler,
  peekCaller,
  refuseDeclaredOversize,
  requireAdmin,
  type KeyRing,
} from '../http/index.ts';
import { createInFlight, type InFlight } from './in-flight.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { listModels, reportNodes } from './node-summary.ts';
import { CHAT_PATH, createChatProxy } from './proxy.ts';
import type { BindingStore, NodeProvider } from './types.ts';
import { createSuspects } from './suspects.ts';
import { deleteConversationHandler, getConversationHandler, imagesHandler } from './owned-ids.ts';
import { uploadHandler } from './upload.ts';

/** Everything createGatewayApp needs; in-flight counter and metrics are made when not given. */
export interface GatewayAppDeps {
  readonly nodes: NodeProvider;
  readonly bindings: BindingStore;
  readonly logger: Logger;
  /** A pooled undici Agent to the workers. */
  readonly dispatcher: Dispatcher;
  /** User and admin keys; checked before any body is read. */
  readonly keys: KeyRing;
  /** express's `trust proxy` (TRUST_PROXY); false by default. */
  readonly trustProxy?: string | number | false;
  readonly gateway: { readonly nodeFreshMs: number; readonly maxAttempts: number };
  /** The largest request body accepted (config.limits.bodyBytes). */
  readonly bodyLimitBytes: number;
  readonly now?: () => number;
  readonly inFlight?: InFlight;
  readonly metrics?: GatewayMetrics;
}

/** The worker routes the gateway proxies with failover. */
const PROXIED_PATHS = [CHAT_PATH, '/v1/completions', '/v1/responses'] as const;

const ROUTES = new Set([
  '/',
  '/dashboard/nodes',
  '/api/nodes',
  '/health',
  '/ready',
  '/metrics',
  '/v1/models',
  '/upload',
  ...PROXIED_PATHS,
]);
const ROUTE_PREFIXES = ['/v1/models/:id', '/conversations/:id', '/images/*'] as const;

/** The gateway's express app. */
export function createGatewayApp(deps: GatewayAppDeps): Express {
  const now = deps.now ?? Date.now;
  const inFlight = deps.inFlight ?? createInFlight();
  const nodeFreshMs = deps.gateway.nodeFreshMs;
  const metrics =
    deps.metrics ??
    createGatewayMetrics({
      nodes: deps.nodes,
      nodeFreshMs,
      inFlight: () => inFlight.counts(),
      now,
    });
  const report = () => reportNodes(deps.nodes.snapshot(), now(), nodeFreshMs, inFlight.counts());
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(countRequests(metrics));
  const admin = [
    authenticate(deps.keys, { basicRealm: 'gemini-kasm admin' }),
    requireAdmin,
  ] as const;
  app.use(['/dashboard', '/api/nodes', '/metrics'], ...admin);
  app.get('/', ...admin, (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.set({ 'content-security-policy': dashboardCsp(nonce), 'cache-control': 'no-store' });
    res.type('html').send(renderDashboard(report(), nonce));
  });
  app.get('/dashboard/nodes', (_req, res) => {
    res.set('cache-control', 'no-store').type('html').send(renderNodeTable(report()));
  });
  app.get('/api/nodes', (_req, res) => {
    res.set('cache-control', 'no-store').json(report());
  });
  // Open for load balancers and probes; node URLs, accounts and states only for an admin.
  app.get('/health', (req, res) => {
    const full = report();
    res.set('cache-control', 'no-store');
    if (peekCaller(deps.keys, req)?.role === 'admin') {
      res.json(full);
      return;
    }
    res.json({ status: full.status, eligible: full.eligible, total: full.total });
  });
  // Ready once it has a node table it may route on. No eligible node is not "unready": the
  // gateway then answers clear 429/503s, which beats a Service with no endpoints.
  app.get('/ready', (_req, res) => {
    const snap = deps.nodes.snapshot();
    const reason =
      snap.fetchedAtMs === 0 ? 'registry_not_read' : snap.expired ? 'registry_stale' : null;
    res.set('cache-control', 'no-store');
    res.status(reason ? 503 : 200).json({ ready: reason === null, reason });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Every client route needs a key before anything is read or relayed; the worker then decides
  // ownership from the same Authorization header, which the relays pass on.
  app.use(['/v1', '/images', '/upload', '/conversations'], authenticate(deps.keys));
  const owned = { ...deps, nodeFreshMs, now };
  app.get('/images/{*path}', imagesHandler(owned));
  app.post('/upload', uploadHandler({ ...owned, inFlight }));
  app.get('/conversations/:id', getConversationHandler(owned));
  app.delete('/conversations/:id', deleteConversationHandler(owned));
  app.use('/v1', createV1Router(deps, inFlight, metrics, now));
  app.use((req) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path}.`);
  });
  app.use(errorHandler(deps.logger));
  return app;
}

function createV1Router(
  deps: GatewayAppDeps,
  inFlight: InFlight,
  metrics: GatewayMetrics,
  now: () => number,
): express.Router {
  const router = express.Router();
  const models = () => listModels(deps.nodes.snapshot().nodes, now(), deps.gateway.nodeFreshMs);
  router.get('/models', (_req, res) => {
    res.json({ object: 'list', data: models() });
  });
  router.get('/models/:id', (req, res) => {
    const model = models().find((m) => m.id === req.params['id']);
    if (!model) {
      throw new ModelNotFoundError(String(req.params['id']));
    }
    res.json(model);
  });
  const suspects = createSuspects();
  // Every dialect route of the workers goes through the same proxy: failover, affinity and the
  // at-most-once rules do not depend on the dialect.
  for (const path of PROXIED_PATHS) {
    router.post(
      path.slice('/v1'.length),
      // Raw bytes: they are forwarded as sent, and may be sent again to another node.
      refuseDeclaredOversize(deps.bodyLimitBytes),
      express.raw({ type: () => true, limit: deps.bodyLimitBytes }),
      createChatProxy({
        nodes: deps.nodes,
        bindings: deps.bindings,
        inFlight,
        suspects,
        metrics,
        logger: deps.logger,
        dispatcher: deps.dispatcher,
        nodeFreshMs: deps.gateway.nodeFreshMs,
        maxAttempts: deps.gateway.maxAttempts,
        path,
        // The OpenAI dialects name the workers' own models.
        routeByModel: true,
        ...(deps.now === undefined ? {} : { now: deps.now }),
      }),
    );
  }
  return router;
}

function routeLabel(req: Request): string {
  const path = req.originalUrl.split('?')[0] ?? '';
  if (ROUTES.has(path)) {
    return path;
  }
  const prefixed = ROUTE_PREFIXES.find((p) => path.startsWith(p.replace(/[^/]+$/, '')));
  return prefixed ?? 'other';
}

/** Counts every request by route, status and stream, and times it, when it ends. */
function countRequests(metrics: GatewayMetrics): RequestHandler {
  return function requestMetrics(req, res, next) {
    const startedAt = performance.now();
    res.once('close', () => {
      // 499 (nginx's "client closed request"): the client left before the response was complete.
      const status = String(res.writableFinished ? res.statusCode : 499);
      const labels = {
        route: routeLabel(req),
        status,
        stream: String(res.locals['stream'] === true),
      };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, (performance.now() - startedAt) / 1000);
    });
    next();
  };
}
