/**
 * @module gateway/fast-path
 * The relayed POST routes served straight on node:http, in front of express: one map lookup
 * instead of walking the console's router and every middleware, the body read into one Buffer
 * without body-parser. It keeps express's order and answers: the key checked before any body is
 * read (401, the connection closed), a declared oversize body refused unread (413, closed), a
 * body over the limit read off and refused (413), every error in the dialect's shape, the request
 * counted and timed. Anything it does not take as it is (another method, a path that is not a
 * relayed route spelled exactly, an encoded body, a parameter that does not decode) goes to
 * express, which answers it as it always did.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { dialectOf, errorShaperOf } from '../api/index.ts';
import { AuthenticationError, PayloadTooLargeError } from '../errors.ts';
import { headerKey, plainUrl, renderError, routeParam, type KeyRing } from '../http/index.ts';
import type { Logger } from '../logging.ts';
import {
  GOOGLE_ROUTE,
  PROXIED_ROUTES,
  moveKeyToHeader,
  type ProxiedRoute,
  type RouteTarget,
} from './dialect-routes.ts';
import { sendJson } from './failed-attempt.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Relay } from './proxy.ts';
import { countOnClose } from './request-metrics.ts';

/** What the fast path needs. */
export interface FastPathDeps {
  readonly keys: KeyRing;
  /** The largest request body accepted (config.limits.bodyBytes). */
  readonly bodyLimitBytes: number;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  /** The relay of a route (the one express's mount uses too). */
  relayFor(route: ProxiedRoute): Relay;
}

/** Serves a request and returns true, or returns false without touching it (express's then). */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const GOOGLE_PREFIX = `${GOOGLE_ROUTE.path}/`;

/** One request the fast path takes: its route, path and target. */
export interface Taken {
  readonly route: ProxiedRoute;
  readonly path: string;
  readonly target: RouteTarget;
}

/** Creates the fast path over the relayed routes. */
export function createFastPath(deps: FastPathDeps): FastPath {
  return function serveRelayed(req, res) {
    const taken = takeRelayed(req.method, req.url, req.headers);
    if (taken === null) {
      return false;
    }
    void serve(deps, req, res, taken);
    return true;
  };
}

const EXACT_ROUTES = new Map(PROXIED_ROUTES.map((r) => [r.path, r]));

/**
 * The relayed route a request is, when the fast path may take it: a POST to a relayed path
 * spelled exactly (no trailing slash, lower case, nothing parseurl reads differently), with an
 * identity body; else null (express's).
 */
export function takeRelayed(
  method: string | undefined,
  url: string | undefined,
  headers: IncomingHttpHeaders,
): Taken | null {
  const encoding = headers['content-encoding'];
  const plain = method === 'POST' && url !== undefined ? plainUrl(url) : null;
  if (plain === null) {
    return null;
  }
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    // express.raw inflates gzip and deflate bodies before they are relayed.
    return null;
  }
  const { path, search } = plain;
  const route = EXACT_ROUTES.get(path);
  if (route !== undefined) {
    return { route, path, target: { action: '', search } };
  }
  // As express decodes a route parameter; one that does not decode is express's 400.
  const action = path.startsWith(GOOGLE_PREFIX)
    ? routeParam(path.slice(GOOGLE_PREFIX.length))
    : null;
  return action === null ? null : { route: GOOGLE_ROUTE, path, target: { action, search } };
}

async function serve(
  deps: FastPathDeps,
  req: IncomingMessage,
  res: ServerResponse,
  { route, path, target }: Taken,
): Promise<void> {
  const dialect = dialectOf(path);
  let stream = false;
  countOnClose(deps.metrics, res, path, () => stream);
  try {
    const key = headerKey(req.headers) ?? (dialect === 'google' ? queryKey(target.search) : null);
    if (deps.keys.identify(key) === null) {
      // The body is never read: close the connection rather than drain a large upload.
      res.setHeader('connection', 'close');
      throw new AuthenticationError(
        key
          ? 'Incorrect API key provided.'
          : 'Missing API key: send Authorization: Bearer <key> (or x-api-key).',
      );
    }
    if (dialect === 'google') {
      moveKeyToHeader(req.headers, key);
    }
    const raw = await readBody(req, res, deps.bodyLimitBytes);
    if (raw === null) {
      return;
    }
    const chat = route.parse(raw, target);
    stream = chat.stream;
    await deps.relayFor(route)(req, res, chat);
  } catch (err) {
    const requestId = res.getHeader('x-request-id');
    const shaped = renderError(
      err,
      errorShaperOf(dialect),
      deps.logger,
      typeof requestId === 'string' ? requestId : '',
    );
    if (res.headersSent) {
      // A response already under way cannot change its status; end it.
      res.destroy();
      return;
    }
    sendJson(res, shaped.status, shaped.headers, shaped.body);
  }
}

/** `?key=` of a Google path, as express's query parser reads it (one value, trimmed). */
export function queryKey(search: string): string | null {
  const value = search === '' ? undefined : parseQuery(search.slice(1))['key'];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The whole body, or null when the client went away first. Throws 413 for a body over the limit:
 * at once, unread, when its Content-Length says so; else as soon as more than the limit came.
 */
function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limitBytes: number,
): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (Number.isFinite(declared) && declared > limitBytes) {
    res.setHeader('connection', 'close');
    throw new PayloadTooLargeError(
      `The request body is larger than this server accepts (${limitBytes} bytes).`,
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      // Refused now, not after the rest is read off: the connection is closed instead.
      req.off('data', onData);
      req.pause();
      res.setHeader('connection', 'close');
      reject(new PayloadTooLargeError('The request is larger than this server accepts.'));
    };
    req.on('data', onData);
    req.once('end', () => {
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    // The client went away mid-body: nothing to answer.
    req.once('error', () => resolve(null));
    res.once('close', () => resolve(null));
  });
}
