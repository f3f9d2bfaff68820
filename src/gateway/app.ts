/**
 * @module gateway/app
 * The gateway's express app: the client surface in three dialects (OpenAI's /v1/models,
 * /v1/chat/completions, /v1/completions, /v1/responses; Anthropic's /v1/messages; Gemini's
 * /v1beta/models) and /images behind a key; the operator console at / and the admin JSON
 * (/dashboard/nodes, /api/nodes, /metrics) behind an admin key; /health, open but terse.
 */
import type { RequestListener } from 'node:http';
import express from 'express';
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
import { createChatProxy, type Relay } from './proxy.ts';
import {
  createV1BetaRouter,
  mountProxiedRoutes,
  targetOf,
  type ProxiedRoute,
  type ProxyMount,
} from './dialect-routes.ts';
import { createFastPath, type FastPath } from './fast-path.ts';
import { countRequests } from './request-metrics.ts';
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

/** The gateway's two request handlers, over one set of relays, metrics and in-flight counts. */
export interface GatewayHandlers {
  /** The express app: every route, every spelling. */
  readonly express: RequestListener;
  /** The relayed POST routes when they come plain; false (untouched) otherwise. */
  readonly fastPath: FastPath;
}

/**
 * The gateway's request listener: the relayed POST routes on the fast path (fast-path.ts) when
 * they come plain, everything else through its express app.
 */
export function createGatewayApp(deps: GatewayAppDeps): RequestListener {
  const handlers = createGatewayHandlers(deps);
  return (req, res) => {
    if (!handlers.fastPath(req, res)) {
      handlers.express(req, res);
    }
  };
}

/** The express app and the fast path in front of it (apart, so tests can set them side by side). */
export function createGatewayHandlers(deps: GatewayAppDeps): GatewayHandlers {
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
  const relayFor = createRelays(deps, inFlight, metrics, operatorConsole.observe);
  const mount = proxyMount(deps, relayFor);
  const models = () => listModels(deps.nodes.snapshot().nodes, now(), nodeFreshMs);
  app.use('/v1', createV1Router(models, mount));
  app.use('/v1beta', createV1BetaRouter(models, mount));
  app.use((req) => {
    throw new NotFoundError(`No route for ${req.method} ${req.path}.`);
  });
  app.use(errorHandler(deps.logger, errorShaperFor));
  const fastPath = createFastPath({
    keys: deps.keys,
    bodyLimitBytes: deps.bodyLimitBytes,
    metrics,
    logger: deps.logger,
    relayFor,
  });
  return { express: app, fastPath };
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
 * The relay of each route, made once and shared by express's mount and the fast path. Every
 * dialect route of the workers goes through the same proxy: failover, affinity and the
 * at-most-once rules do not depend on the dialect.
 */
function createRelays(
  deps: GatewayAppDeps,
  inFlight: InFlight,
  metrics: GatewayMetrics,
  observe: AttemptObserver,
): (route: ProxiedRoute) => Relay {
  const suspects = createSuspects();
  const relays = new Map<string, Relay>();
  return (route) => {
    let relay = relays.get(route.path);
    if (relay === undefined) {
      relay = createChatProxy({
        nodes: deps.nodes,
        bindings: deps.bindings,
        inFlight,
        suspects,
        metrics,
        logger: deps.logger,
        dispatcher: deps.dispatcher,
        nodeFreshMs: deps.gateway.nodeFreshMs,
        maxAttempts: deps.gateway.maxAttempts,
        path: route.path,
        observe,
        // The OpenAI dialects name the workers' own models; Claude names are mapped by the
        // workers, and a Gemini API model the account lacks gets the worker's own NOT_FOUND.
        routeByModel: dialectOf(route.path) === 'openai',
        ...(deps.now === undefined ? {} : { now: deps.now }),
      });
      relays.set(route.path, relay);
    }
    return relay;
  };
}

/** express's handlers of a relayed route (for what the fast path leaves to express). */
function proxyMount(deps: GatewayAppDeps, relayFor: (route: ProxiedRoute) => Relay): ProxyMount {
  return (route) => [
    // Raw bytes: they are forwarded as sent, and may be sent again to another node.
    refuseDeclaredOversize(deps.bodyLimitBytes),
    express.raw({ type: () => true, limit: deps.bodyLimitBytes }),
    function relayRoute(req, res) {
      const chat = route.parse(req.body, targetOf(req));
      res.locals['stream'] = chat.stream;
      return relayFor(route)(req, res, chat);
    },
  ];
}
