/**
 * @module gateway/dialect-routes
 * The routes the gateway relays to the workers with failover (proxy.ts), in every dialect, and
 * Gemini's /v1beta surface: the model list is the gateway's own (the union of the nodes' models,
 * as /v1/models is), generateContent, streamGenerateContent and countTokens are relayed.
 * count_tokens and countTokens are relayed too rather than counted here: the worker holds the
 * model map (ANTHROPIC_MODEL_MAP) and the counting, a count never reaches Google (so any node
 * may answer, and a refused one fails over), and the answer is the same whichever way it comes.
 * fast-path.ts serves the same routes without express when the request is plain.
 */
import express, { type Request, type RequestHandler, type Router } from 'express';
import { googleModelList } from '../api/index.ts';
import { ModelNotFoundError } from '../errors.ts';
import { presentedKey } from '../http/index.ts';
import { CHAT_PATH } from './proxy.ts';
import { parseChatRequest, parseResponsesRequest, type ChatRequest } from './chat-request.ts';
import { parseAnthropicRequest, parseGoogleRequest } from './dialect-request.ts';
import type { ModelEntry } from './node-summary.ts';

/** What a relayed request's URL adds to its body: Google's `{model}:{method}` and the query. */
export interface RouteTarget {
  /** The path segment after /v1beta/models/, decoded ('' elsewhere). */
  readonly action: string;
  /** The query, with its `?`, or ''. */
  readonly search: string;
}

/** A relayed POST route: its path (the worker's too) and how the gateway reads its body. */
export interface ProxiedRoute {
  readonly path: string;
  readonly parse: (raw: unknown, target: RouteTarget) => ChatRequest;
}

/** Builds the handlers relaying one route. */
export type ProxyMount = (route: ProxiedRoute) => RequestHandler[];

/** The /v1 routes the gateway proxies with failover (the OpenAI ones, then Anthropic's). */
export const PROXIED_ROUTES: readonly ProxiedRoute[] = [
  { path: CHAT_PATH, parse: parseChatRequest },
  { path: '/v1/completions', parse: parseChatRequest },
  { path: '/v1/responses', parse: parseResponsesRequest },
  { path: '/v1/messages', parse: (raw) => parseAnthropicRequest(raw) },
  { path: '/v1/messages/count_tokens', parse: (raw) => parseAnthropicRequest(raw, true) },
];

/** POST /v1beta/models/{model}:{method}, relayed to the same worker path. */
export const GOOGLE_ROUTE: ProxiedRoute = {
  path: '/v1beta/models',
  parse: (raw, target) => parseGoogleRequest(raw, target.action, target.search),
};

/** The query of a URL, with its `?`, or ''. */
export function searchOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at);
}

/** Mounts the relayed /v1 routes on a router mounted at /v1. */
export function mountProxiedRoutes(router: Router, mount: ProxyMount): void {
  for (const route of PROXIED_ROUTES) {
    router.post(route.path.slice('/v1'.length), ...mount(route));
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
  router.post('/models/:action', keyAsHeader, ...mount(GOOGLE_ROUTE));
  return router;
}

/** The target of a request express routed (Google's action is its `:action` parameter). */
export function targetOf(req: Request): RouteTarget {
  return { action: String(req.params['action'] ?? ''), search: searchOf(req.originalUrl) };
}

const KEY_HEADERS = ['authorization', 'x-api-key', 'x-goog-api-key'] as const;

/**
 * `?key=` goes to the worker as x-goog-api-key (a key in a URL ends up in access logs): `key` is
 * the key the request presents, set when no key header is there.
 */
export function moveKeyToHeader(headers: Record<string, unknown>, key: string | null): void {
  if (key !== null && KEY_HEADERS.every((h) => headers[h] === undefined)) {
    headers['x-goog-api-key'] = key;
  }
}

const keyAsHeader: RequestHandler = (req, _res, next) => {
  moveKeyToHeader(req.headers, presentedKey(req));
  next();
};
