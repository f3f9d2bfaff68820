/**
 * @module gateway/owned-ids
 * GET|DELETE /conversations/:id and GET /images/... through the gateway, for ids a worker issued.
 * The binding store says which node holds an id (bound when the gateway relayed the answer that
 * issued it); that node is asked first, then the other live nodes, so a client never gets a 404
 * for its own id while the node holding it lives, even if a binding was lost. The client's
 * Authorization goes along untouched: the worker decides who owns what.
 */
import type { Request, RequestHandler, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { NotFoundError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { isFresh } from './balancer.ts';
import { requestIdOf, upstreamHeaders } from './chat-request.ts';
import { assertRoutable } from './node-source.ts';
import type { BindingStore, NodeProvider, NodeRecord } from './types.ts';
import { forwardableHeaders } from './upstream.ts';

/** What the id routes need. */
export interface OwnedIdDeps {
  readonly nodes: NodeProvider;
  readonly bindings: BindingStore;
  readonly dispatcher: Dispatcher;
  readonly nodeFreshMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

/** The binding key of an image path (`YYYYMM/YYYYMMDD/<name>`). */
export const imageKey = (path: string): string => `image:${path}`;

const SAFE_IMAGE_PATH = /^\/images\/[\w./-]+$/;
const SAFE_ID = /^[\w.-]{1,128}$/;

/**
 * The live nodes (fresh, not OFFLINE; cooling or signed-out ones still hold their files), the
 * bound one first. Throws the registry's 503 when the table is too old to trust.
 */
async function candidates(deps: OwnedIdDeps, key: string): Promise<NodeRecord[]> {
  const snapshot = deps.nodes.snapshot();
  const now = deps.now();
  assertRoutable(snapshot, now);
  const live = snapshot.nodes.filter(
    (n) => isFresh(n, now, deps.nodeFreshMs) && n.status !== 'OFFLINE',
  );
  const bound = await deps.bindings.lookup([key]).catch(() => null);
  const first = live.find((n) => n.nodeUrl === bound?.nodeUrl);
  return first ? [first, ...live.filter((n) => n !== first)] : live;
}

/** One request to a node; null when it could not be reached or failed before answering. */
async function ask(
  deps: OwnedIdDeps,
  node: NodeRecord,
  req: Request,
  method: 'GET' | 'DELETE',
): Promise<Dispatcher.ResponseData | null> {
  const headers = upstreamHeaders(req.headers, requestIdOf(req.headers), req.socket.remoteAddress);
  delete headers['content-type'];
  try {
    return await deps.dispatcher.request({
      origin: node.nodeUrl,
      path: req.originalUrl.split('?')[0] ?? req.path,
      method,
      headers,
    });
  } catch (err) {
    deps.logger.warn('worker node did not answer an id lookup', {
      node: node.nodeUrl,
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}

/** Relays a node's response as it is (hop-by-hop headers dropped). */
async function relayResponse(res: Response, upstream: Dispatcher.ResponseData): Promise<void> {
  res.status(upstream.statusCode).set(forwardableHeaders(upstream.headers));
  await pipeline(upstream.body, res);
}

/**
 * Asks the nodes in turn; relays the first answer that is not a 404 (an image: the first 200).
 * A 404 everywhere is a 404.
 */
async function relayFirstFound(
  deps: OwnedIdDeps,
  req: Request,
  res: Response,
  key: string,
  notFound: () => Error,
): Promise<void> {
  for (const node of await candidates(deps, key)) {
    const upstream = await ask(deps, node, req, 'GET');
    if (upstream !== null && upstream.statusCode !== 404) {
      await relayResponse(res, upstream);
      return;
    }
    await upstream?.body.dump();
  }
  throw notFound();
}

/** GET /images/{*path}: from the node that generated the image. */
export function imagesHandler(deps: OwnedIdDeps): RequestHandler {
  return async function relayImage(req, res) {
    if (!SAFE_IMAGE_PATH.test(req.path) || req.path.includes('..')) {
      throw new NotFoundError('No such image.');
    }
    const key = imageKey(req.path.slice('/images/'.length));
    await relayFirstFound(deps, req, res, key, () => new NotFoundError('No such image.'));
  };
}

const noConversation = (id: string) =>
  new NotFoundError(`No conversation ${id}.`, { param: 'conversation_id' });

/** GET /conversations/:id: from the node that holds the conversation. */
export function getConversationHandler(deps: OwnedIdDeps): RequestHandler {
  return async function getConversation(req, res) {
    const id = String(req.params['id']);
    if (!SAFE_ID.test(id)) {
      throw noConversation(id);
    }
    await relayFirstFound(deps, req, res, id, () => noConversation(id));
  };
}

/**
 * DELETE /conversations/:id: on every live node that holds it (a conversation that moved after a
 * failover lives on more than one). The first success is the answer; a 404 everywhere is a 404.
 */
export function deleteConversationHandler(deps: OwnedIdDeps): RequestHandler {
  return async function deleteConversation(req, res) {
    const id = String(req.params['id']);
    if (!SAFE_ID.test(id)) {
      throw noConversation(id);
    }
    const answers: { status: number; headers: Dispatcher.ResponseData['headers']; body: string }[] =
      [];
    for (const node of await candidates(deps, id)) {
      const upstream = await ask(deps, node, req, 'DELETE');
      if (upstream !== null) {
        const body = await upstream.body.text();
        answers.push({ status: upstream.statusCode, headers: upstream.headers, body });
      }
    }
    // A success beats an error, and an error other than 404 (a 403, say) beats a 404.
    const answer =
      answers.find((a) => a.status >= 200 && a.status < 300) ??
      answers.find((a) => a.status !== 404);
    if (answer === undefined) {
      throw noConversation(id);
    }
    const headers = forwardableHeaders(answer.headers);
    delete headers['content-length'];
    res.status(answer.status).set(headers).end(answer.body);
  };
}
