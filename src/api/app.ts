/**
 * The worker's express app: the OpenAI surface, uploads, images, conversations, health, metrics
 * and admin. Everything it talks to arrives through `deps`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../logging.ts';
import { UPSTREAM_SENT_HEADER } from '../errors.ts';
import type { ChatBackend } from './backend.ts';
import type { ConversationStore } from './conversations.ts';
import type { ImageStore } from './images.ts';
import type { WorkerMetrics } from './metrics.ts';
import { errorHandler, notFound, requestId, requestIdOf, requireApiKey } from '../http/index.ts';
import {
  chatCompletionsHandler,
  completionsHandler,
  embeddingsHandler,
  responsesHandler,
} from './openai/index.ts';
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
  readonly apiKeys: readonly string[];
  readonly limits: {
    readonly bodyBytes: number;
    readonly uploadBytes: number;
    readonly promptChars: number;
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
}

function accessLog(logger: Logger) {
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info('request', {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms),
        requestId: requestIdOf(res),
        aborted: !res.writableFinished,
      });
    });
    next();
  };
}

/** Builds the worker's HTTP app. */
export function createWorkerApp(deps: WorkerAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  const auth = requireApiKey(deps.apiKeys);
  app.use(requestId());
  // Until the chat route knows better, nothing went upstream: even a 401 or 413 says so.
  app.use(['/v1/chat/completions', '/v1/completions', '/v1/responses'], (_req, res, next) => {
    res.setHeader(UPSTREAM_SENT_HEADER, 'false');
    next();
  });
  app.use(accessLog(deps.logger));
  app.use(deps.metrics.middleware);
  app.use(statusRouter(deps.status, deps.metrics.registry));
  app.use(imagesRouter(deps.images));
  app.use(['/v1', '/upload', '/conversations', '/admin'], auth);
  app.use(express.json({ limit: deps.limits.bodyBytes }));
  app.use(modelsRouter());
  const turnDeps = {
    backend: deps.backend,
    conversations: deps.conversations,
    images: deps.images,
    uploadsDir: deps.uploadsDir,
    inputsDir: deps.inputsDir,
    maxUploadBytes: deps.limits.uploadBytes,
    maxPromptChars: deps.limits.promptChars,
    sseKeepAliveMs: deps.sseKeepAliveMs,
    logger: deps.logger,
    firstTokenSeconds: deps.metrics.firstTokenSeconds,
  };
  app.post('/v1/chat/completions', chatCompletionsHandler(turnDeps));
  app.post('/v1/completions', completionsHandler(turnDeps));
  app.post('/v1/responses', responsesHandler(turnDeps));
  app.post('/v1/embeddings', embeddingsHandler());
  app.use(uploadRouter(deps.uploadsDir, deps.limits.uploadBytes));
  app.use(conversationsRouter(deps.conversations));
  app.use(adminRouter(deps.admin));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
