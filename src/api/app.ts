/**
 * The worker's express app: the OpenAI, Anthropic and Gemini API surfaces, uploads, images,
 * conversations, health, metrics and admin, and the listener whose fast path serves the chat POSTs
 * with the same functions without walking express's router. Everything arrives through `deps`.
 */
import { AfterWork } from '../after-work.ts';
import type { RequestListener } from 'node:http';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import type { Logger } from '../logging.ts';
import { UPSTREAM_SENT_HEADER } from '../errors.ts';
import type { ModelCatalog } from '../gemini/index.ts';
import type { ChatBackend } from './backend.ts';
import { errorShaperFor } from './dialects.ts';
import type { ConversationStore } from './conversations.ts';
import { refuseWhileDraining, type DrainSwitch } from './drain.ts';
import type { ImageStore } from './images.ts';
import type { WorkerMetrics } from './metrics.ts';
import {
  authenticate,
  callerOf,
  errorHandler,
  notFound,
  refuseDeclaredOversize,
  refuseDeepJsonBody,
  requestId,
  requestIdOf,
  requireAdmin,
  trustProxyValue,
  type KeyRing,
} from '../http/index.ts';
import type { ResolveHost } from './safe-fetch.ts';
import { countTokensHandler, createModelResolver, messagesHandler } from './anthropic/index.ts';
import {
  chatCompletionsHandler,
  completionsHandler,
  embeddingsHandler,
  responsesHandler,
} from './openai/index.ts';
import {
  googleRouter,
  googleUpstreamDefault,
  MODEL_ACTION_PATH,
  modelActionHandler,
} from './google/index.ts';
import { withFastPath, type HotRoute } from './fast-path.ts';
import type { TurnRouteDeps } from './turn-route.ts';
import { conversationsRouter } from './routes/conversations.ts';
import { imagesRouter, uploadRouter } from './routes/files.ts';
import { modelsRouter } from './routes/models.ts';
import {
  adminRouter,
  statusRouter,
  type AdminActions,
  type StatusSource,
} from './routes/status.ts';

export interface WorkerAppDeps {
  /** User and admin keys; checked before any body is read. */
  readonly keys: KeyRing;
  /** express's `trust proxy`; false unless TRUST_PROXY names the proxies. */
  readonly trustProxy: string | false;
  readonly limits: {
    readonly bodyBytes: number;
    readonly uploadBytes: number;
    readonly promptChars: number;
    /** Longest prompt sent inline (default: all of promptChars). */
    readonly promptInlineChars?: number;
    readonly imageBytes: number;
    readonly imagesPerRequest: number;
  };
  readonly imageFetch: {
    readonly allowPrivate: boolean;
    readonly timeoutMs: number;
    readonly resolve?: ResolveHost;
  };
  readonly uploadsDir: string;
  /** Where a request's input files wait for its job (DATA_DIR/inputs). */
  readonly inputsDir: string;
  /** Silence after which a committed stream sends a `: keep-alive` comment. */
  readonly sseKeepAliveMs: number;
  readonly logger: Logger;
  readonly backend: ChatBackend;
  readonly conversations: ConversationStore;
  readonly images: ImageStore;
  readonly status: StatusSource;
  readonly admin: AdminActions;
  readonly metrics: WorkerMetrics;
  /** ANTHROPIC_MODEL_MAP: claude-* names -> our models; without it only our names are known. */
  readonly anthropicModelMap?: Readonly<Record<string, string>>;
  /** The operator's drain flag; new /v1 requests get a 503 while it is on. */
  readonly drain?: DrainSwitch;
  /** The models the account can use now (discovery); the code table when absent. */
  readonly models?: ModelCatalog;
}

/** One line per request, written as after-work (after-work.ts) once the response is done. */
function accessLog(logger: Logger) {
  const afterWork = new AfterWork();
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms),
        requestId: requestIdOf(res),
        // The key's id, never the key.
        keyId: callerOf(res)?.keyId,
        aborted: !res.writableFinished,
      };
      afterWork.later(() => logger.info('request', line));
    });
    next();
  };
}

/** The worker's HTTP front: its express app, and node:http's listener in front of it. */
export interface WorkerHttp {
  /** Serves every route. */
  readonly app: express.Express;
  /** Serves the chat POSTs without express's router walk (fast-path.ts), the rest by `app`. */
  readonly listener: RequestListener;
}

/** The chat paths whose answers say x-upstream-sent (as a mount: count_tokens is under one). */
const UPSTREAM_SENT_PATHS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/responses',
  '/v1/messages',
];

/** An app-level middleware and the paths it is mounted on (null: every path). */
type MountedLayer = [paths: string[] | null, layer: RequestHandler];

/** Until the chat route knows better, nothing went upstream: even a 401 or 413 says so. */
function upstreamNotSent(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader(UPSTREAM_SENT_HEADER, 'false');
  next();
}

/** Builds the worker's HTTP app and the listener that serves its chat POSTs in front of it. */
export function createWorkerHttp(deps: WorkerAppDeps): WorkerHttp {
  const app = express();
  app.disable('x-powered-by');
  // Off unless TRUST_PROXY names the proxies: anyone else's X-Forwarded-* is ignored, and req.ip,
  // req.protocol and req.host are the socket's and the Host header's.
  app.set('trust proxy', trustProxyValue(deps.trustProxy));
  // The app-level middleware, in express's order. express mounts them from this table and the
  // fast path takes a chat route's share of it, so the two cannot drift apart; middleware mounted
  // with app.use anywhere else would be skipped by the fast path.
  const layers: MountedLayer[] = [
    [null, requestId()],
    [UPSTREAM_SENT_PATHS, upstreamNotSent],
    [['/v1beta/models'], googleUpstreamDefault],
    [null, accessLog(deps.logger)],
    [null, deps.metrics.middleware],
    // The key is checked before any body is read; each route then parses only what it needs.
    [['/v1', '/v1beta', '/upload', '/conversations', '/admin', '/images'], authenticate(deps.keys)],
    ...(deps.drain
      ? [[['/v1', '/v1beta'], refuseWhileDraining(deps.drain)] satisfies MountedLayer]
      : []),
  ];
  for (const [paths, layer] of layers) {
    if (paths === null) {
      app.use(layer);
    } else {
      app.use(paths, layer);
    }
  }
  // A mount matches its own path and the paths below it, as express matches it.
  const frontOf = (route: string): RequestHandler[] =>
    layers
      .filter(
        ([paths]) => paths === null || paths.some((p) => route === p || route.startsWith(`${p}/`)),
      )
      .map(([, layer]) => layer);
  const turnDeps = turnDepsOf(deps);
  // Each route parses its body only after the key was checked, within the body limit and the
  // nesting limit (what walks the parsed body recursively would overflow the stack past it).
  const json = [
    refuseDeclaredOversize(deps.limits.bodyBytes),
    express.json({ limit: deps.limits.bodyBytes, verify: refuseDeepJsonBody }),
  ];
  const serve = (path: string, handler: RequestHandler) => {
    const handlers = [...json, handler];
    const route = app.route(path);
    route.post(...handlers);
    return { front: frontOf(path), route, handlers } satisfies HotRoute;
  };
  const claudeModels = createModelResolver(deps.anthropicModelMap ?? {});
  const chatRoutes: readonly (readonly [string, RequestHandler])[] = [
    ['/v1/chat/completions', chatCompletionsHandler(turnDeps)],
    ['/v1/completions', completionsHandler(turnDeps)],
    ['/v1/responses', responsesHandler(turnDeps)],
    ['/v1/messages', messagesHandler(turnDeps, claudeModels)],
    ['/v1/messages/count_tokens', countTokensHandler(claudeModels)],
  ];
  const hot = new Map(chatRoutes.map(([path, h]) => [path, serve(path, h)]));
  app.post('/v1/embeddings', embeddingsHandler());
  const modelAction = serve(MODEL_ACTION_PATH, modelActionHandler(turnDeps));
  app.use(googleRouter());
  // Routers without a POST route come after the POST routes, which chat clients would otherwise
  // walk through on every request; no path below is served above, so each answer is unchanged.
  app.use(statusRouter(deps.status, deps.metrics.registry, deps.keys));
  app.use(imagesRouter(deps.images));
  app.use(modelsRouter(deps.models));
  app.use(uploadRouter(deps.uploadsDir, deps.limits.uploadBytes));
  app.use(conversationsRouter(deps.conversations));
  app.use('/admin', requireAdmin);
  app.use(adminRouter(deps.admin));
  app.use(notFound);
  const onError = errorHandler(deps.logger, errorShaperFor);
  app.use(onError);
  const listener = withFastPath({
    app,
    exact: hot,
    withParam: { prefix: '/v1beta/models/', param: 'action', hot: modelAction },
    fallthrough: notFound,
    onError,
  });
  return { app, listener };
}

function turnDepsOf(deps: WorkerAppDeps): TurnRouteDeps {
  return {
    backend: deps.backend,
    conversations: deps.conversations,
    images: deps.images,
    uploadsDir: deps.uploadsDir,
    inputsDir: deps.inputsDir,
    maxUploadBytes: deps.limits.imageBytes,
    maxPromptChars: deps.limits.promptChars,
    promptInlineMaxChars: deps.limits.promptInlineChars ?? deps.limits.promptChars,
    sseKeepAliveMs: deps.sseKeepAliveMs,
    inputOptions: {
      maxImages: deps.limits.imagesPerRequest,
      allowPrivateUrls: deps.imageFetch.allowPrivate,
      fetchTimeoutMs: deps.imageFetch.timeoutMs,
      ...(deps.imageFetch.resolve ? { resolveHost: deps.imageFetch.resolve } : {}),
    },
    logger: deps.logger,
    firstTokenSeconds: deps.metrics.firstTokenSeconds,
    ...(deps.models ? { models: deps.models } : {}),
  };
}
