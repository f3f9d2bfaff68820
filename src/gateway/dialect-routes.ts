/**
 * @module gateway/dialect-routes
 * The routes the gateway relays to the workers with failover (proxy.ts), in every dialect, and
 * Gemini's /v1beta surface: the model list is the gateway's own (the union of the nodes' models,
 * as /v1/models is), generateContent, streamGenerateContent and countTokens are relayed.
 * count_tokens and countTokens are relayed too rather than counted here: the worker holds the
 * model map (ANTHROPIC_MODEL_MAP) and the counting, a count never reaches Google (so any node
 * may answer, and a refused one fails over), and the answer is the same whichever way it comes.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { googleModelList } from '../api/index.ts';
import { ModelNotFoundError } from '../errors.ts';
import { presentedKey } from '../http/index.ts';
import { CHAT_PATH } from './proxy.ts';
import type { ChatRequest } from './chat-request.ts';
import { parseAnthropicRequest, parseGoogleRequest } from './dialect-request.ts';
import type { ModelEntry } from './node-summary.ts';

/** Builds the handlers relaying one route: the worker path, and how to read the request. */
export type ProxyMount = (path: string, parse?: (req: Request) => ChatRequest) => RequestHandler[];

/** A relayed POST route under /v1: its path and how the gateway reads it. */
interface ProxiedRoute {
  readonly path: string;
  readonly parse?: (req: Request) => ChatRequest;
}

/** The /v1 routes the gateway proxies with failover (the OpenAI ones, then Anthropic's). */
export const PROXIED_ROUTES: readonly ProxiedRoute[] = [
  { path: CHAT_PATH },
  { path: '/v1/completions' },
  { path: '/v1/responses' },
  { path: '/v1/messages', parse: (req) => parseAnthropicRequest(req.body) },
  { path: '/v1/messages/count_tokens', parse: (req) => parseAnthropicRequest(req.body, true) },
];

/** Mounts the relayed /v1 routes on a router mounted at /v1. */
export function mountProxiedRoutes(router: Router, mount: ProxyMount): void {
  for (const { path, parse } of PROXIED_ROUTES) {
    router.post(path.slice('/v1'.length), ...mount(path, parse));
  }
}

/** The Gemini API's routes, for /v1beta. */
export function createV1BetaRouter(models: () => readonly ModelEntry[], mount: ProxyMount): Router {
  const router = express.Router();
  const list = () => googleModelList(models().map((m) => ({ id: m.id })));
  router.get('/models', (_req, res) => {
    res.json(list());
  });
  router.get('/models/:model', (req, res) => {
    const name = `models/${String(req.params['model'])}`;
    const model = list().models.find((m) => m['name'] === name);
    if (!model) {
      throw new ModelNotFoundError(String(req.params['model']));
    }
    res.json(model);
  });
  router.post('/models/:action', keyAsHeader, ...mount('/v1beta/models', googleRequest));
  return router;
}

function googleRequest(req: Request): ChatRequest {
  const search = req.originalUrl.includes('?')
    ? req.originalUrl.slice(req.originalUrl.indexOf('?'))
    : '';
  return parseGoogleRequest(req.body, String(req.params['action']), search);
}

/** `?key=` goes to the worker as x-goog-api-key: a key in a URL ends up in access logs. */
const keyAsHeader: RequestHandler = (req, _res, next) => {
  const headers = ['authorization', 'x-api-key', 'x-goog-api-key'];
  const key = presentedKey(req);
  if (key !== null && headers.every((h) => req.headers[h] === undefined)) {
    req.headers['x-goog-api-key'] = key;
  }
  next();
};
