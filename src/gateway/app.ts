/**
 * @module gateway/app
 * The gateway's express app: the client surface in three dialects (OpenAI's /v1/models,
 * /v1/chat/completions, /v1/completions, /v1/responses; Anthropic's /v1/messages; Gemini's
 * /v1beta/models) and /images behind a key; the operator console at / and the admin JSON
 * (/dashboard/nodes, /api/nodes, /metrics) behind an admin key; /health, open but terse.
 */
import express, { type Express, type Request, type RequestHandler } from 'express';
import type { ChatRequest } from './chat-request.ts';
import type { Dispatcher } from 'undici';
import { ModelNotFoundError, NotFoundError } from '../errors.ts';
import { dialectOf, errorShaperFor } from '../api/index.ts';
import type { Logger } from '../logging.ts';
import { renderNodeTable } from './dashboard.ts';
import { createConsole, type AttemptObserver } from './console/index.ts';
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
import { listModels, reportNodes, type ModelEntry } from './node-summary.ts';
import { createChatProxy } from './proxy.ts';
import {
  PROXIED_ROUTES,
  createV1BetaRouter,
  mountProxiedRoutes,
  type ProxyMount,
} from './dialect-routes.ts';
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
  readonly gateway: {
    readonly nodeFreshMs: number;
    readonly maxAttempts: number;
    /** The console's per-account noVNC link (GATEWAY_VNC_URL_TEMPLATE). */
    readonly vncUrlTemplate?: string | null;
  };
  /** The largest request body accepted (config.limits.bodyBytes). */
  readonly bodyLimitBytes: number;
  readonly now?: () => number;
  readonly inFlight?: InFlight;
  readonly metrics?: GatewayMetrics;
}

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
  '/v1beta/models',
  ...PROXIED_ROUTES.map((r) => r.path),
]);
const ROUTE_PREFIXES = ['/v1/models/:id', '/conversations/:id', '/images/*'] as const;
/** The client API (what the per-dialect counts count): /v1/… and /v1beta/…. */
const CLIENT_API = /^\/v1(beta)?\//;
/** Gemini's model paths, by method: `/v1beta/models/{model}:generateContent`… */
const GOOGLE_MODEL_PATH =
  /^\/v1beta\/models\/[^/:]+(?::(generateContent|streamGenerateContent|countTokens))?$/;

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
  const report = () => ({
    ...reportNodes(deps.nodes.snapshot(), now(), nodeFreshMs, inFlight.counts()),
    dialects: metrics.dialects.snapshot(),
  });
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(countRequests(metrics));
  const admin = [
    authenticate(deps.keys, { basicRealm: 'gemini-kasm admin' }),
    requireAdmin,
  ] as const;
  app.use(['/dashboard', '/api/nodes', '/metrics'], ...admin);
  // The operator's console: `/` and /console/*, behind its own session sign-in.
  const operatorConsole = createConsole({
    keys: deps.keys,
    nodes: deps.nodes,
    report,
    dispatcher: deps.dispatcher,
    logger: deps.logger,
    vncUrlTemplate: deps.gateway.vncUrlTemplate ?? null,
    now,
  });
  app.use(operatorConsole.router);
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
  app.use(['/v1', '/v1beta', '/images', '/upload', '/conversations'], authenticate(deps.keys));
  const owned = { ...deps, nodeFreshMs, now };
  app.get('/images/{*path}', imagesHandler(owned));
  app.post('/upload', uploadHandler({ ...owned, inFlight }));
  app.get('/conversations/:id', getConversationHandler(owned));
  app.delete('/conversations/:id', deleteConversationHandler(owned));
  const mount = proxyMount(deps, inFlight, metrics, operatorConsole.observe);
  const models = () => listModels(deps.nodes.snapshot().nodes, now(), nodeFreshMs);
  app.use('/v1', createV1Router(models, mount));
  app.use('/v1beta', createV1BetaRouter(models, mount));
  app.use((req) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path}.`);
  });
  app.use(errorHandler(deps.logger, errorShaperFor));
  return app;
}

function createV1Router(models: () => ModelEntry[], mount: ProxyMount): express.Router {
  const router = express.Router();
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
  mountProxiedRoutes(router, mount);
  return router;
}

/**
 * The handlers relaying a route. Every dialect route of the workers goes through the same proxy:
 * failover, affinity and the at-most-once rules do not depend on the dialect.
 */
function proxyMount(
  deps: GatewayAppDeps,
  inFlight: InFlight,
  metrics: GatewayMetrics,
  observe: AttemptObserver,
): ProxyMount {
  const suspects = createSuspects();
  return (path: string, parse?: (req: Request) => ChatRequest) => [
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
      observe,
      // The OpenAI dialects name the workers' own models; Claude names are mapped by the workers,
      // and a Gemini API model the account lacks gets the worker's own NOT_FOUND.
      routeByModel: dialectOf(path) === 'openai',
      ...(parse === undefined ? {} : { parse }),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    }),
  ];
}

function routeLabel(req: Request): string {
  const path = req.originalUrl.split('?')[0] ?? '';
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

/** Counts every request by route, status, stream and dialect, and times it, when it ends. */
function countRequests(metrics: GatewayMetrics): RequestHandler {
  return function requestMetrics(req, res, next) {
    const startedAt = performance.now();
    res.once('close', () => {
      // 499 (nginx's "client closed request"): the client left before the response was complete.
      const status = String(res.writableFinished ? res.statusCode : 499);
      const path = req.originalUrl.split('?')[0] ?? '';
      const labels = {
        route: routeLabel(req),
        status,
        stream: String(res.locals['stream'] === true),
        dialect: dialectOf(path),
      };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, (performance.now() - startedAt) / 1000);
      if (CLIENT_API.test(path)) {
        metrics.dialects.count(labels.dialect, Number(status));
      }
    });
    next();
  };
}
