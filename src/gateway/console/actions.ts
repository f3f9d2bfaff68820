/**
 * @module gateway/console/actions
 * What the console's buttons do: each calls one admin route of the chosen worker with the signed-in
 * operator's key, and logs the action with that key's id. Only nodes in the registry can be
 * targeted, so the console never becomes a proxy to an address a browser chose.
 */
import type { Request, Response } from 'express';
import { request, type Dispatcher } from 'undici';
import { AppError, InvalidRequestError, NotFoundError, UpstreamError } from '../../errors.ts';
import type { Logger } from '../../logging.ts';
import type { NodeProvider, NodeRecord } from '../types.ts';
import { consoleSessionOf } from './access.ts';

/** The console's actions and the worker admin route each one calls. */
export const WORKER_ROUTES = {
  'refresh-session': '/admin/session/refresh',
  'reset-cooldown': '/admin/cooldown/reset',
  drain: '/admin/drain',
  undrain: '/admin/undrain',
} as const;

/** One of the console's actions. */
export type ConsoleAction = keyof typeof WORKER_ROUTES;

/** What the action handlers need. */
export interface ActionDeps {
  readonly nodes: NodeProvider;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** A worker slower than this to answer an action fails it (a session refresh reloads a tab). */
  readonly workerTimeoutMs?: number;
}

const SCREENSHOT_MAX_BYTES = 10 * 1024 * 1024;

const isAction = (v: unknown): v is ConsoleAction =>
  typeof v === 'string' && Object.hasOwn(WORKER_ROUTES, v);

function registeredNode(deps: ActionDeps, nodeUrl: unknown): NodeRecord {
  if (typeof nodeUrl !== 'string' || nodeUrl === '') {
    throw new InvalidRequestError('Name the node (its node_url).', { param: 'node' });
  }
  const node = deps.nodes.snapshot().nodes.find((n) => n.nodeUrl === nodeUrl);
  if (!node) {
    throw new NotFoundError('No such node in the registry.', { code: 'node_not_found' });
  }
  return node;
}

/** Calls a worker admin route; a refusal or an unreachable worker is a 502 that says which. */
async function callWorker(
  deps: ActionDeps,
  node: NodeRecord,
  method: 'GET' | 'POST',
  route: string,
  key: string,
): Promise<{ body: Buffer; contentType: string }> {
  const timeoutMs = deps.workerTimeoutMs ?? 30_000;
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${node.nodeUrl.replace(/\/+$/, '')}${route}`, {
      method,
      dispatcher: deps.dispatcher,
      // No key only when the gateway runs open (ALLOW_NO_AUTH=1), as its workers then may.
      headers: key ? { authorization: `Bearer ${key}` } : {},
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch {
    throw new UpstreamError('The worker could not be reached.', { code: 'worker_unreachable' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > SCREENSHOT_MAX_BYTES) {
      res.body.destroy();
      throw new UpstreamError('The worker answered with too much data.');
    }
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  if (res.statusCode !== 200) {
    let message = `The worker answered HTTP ${res.statusCode}.`;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } };
      if (typeof parsed.error?.message === 'string') {
        message = `The worker answered HTTP ${res.statusCode}: ${parsed.error.message}`;
      }
    } catch {
      // Not JSON: the status says enough.
    }
    throw new UpstreamError(message, { code: 'worker_refused' });
  }
  return { body, contentType: String(res.headers['content-type'] ?? '') };
}

/** POST /console/nodes/action `{node, action}`: runs the action and answers the worker's JSON. */
export function actionHandler(deps: ActionDeps) {
  return async function consoleAction(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as { node?: unknown; action?: unknown };
    if (!isAction(body.action)) {
      throw new InvalidRequestError(
        `Unknown action; expected one of ${Object.keys(WORKER_ROUTES).join(', ')}.`,
        { param: 'action' },
      );
    }
    const node = registeredNode(deps, body.node);
    const session = consoleSessionOf(res);
    const log = { action: body.action, node: node.nodeUrl, account: node.account };
    try {
      const answer = await callWorker(deps, node, 'POST', WORKER_ROUTES[body.action], session.key);
      let result: unknown = null;
      try {
        result = JSON.parse(answer.body.toString('utf8'));
      } catch {
        // A worker that answers 200 without JSON still did the action.
      }
      deps.logger.info('console action', { ...log, keyId: session.caller.keyId, ok: true });
      res.set('cache-control', 'no-store').json({ ok: true, action: body.action, result });
    } catch (err) {
      const error = err instanceof AppError ? err.message : String(err);
      deps.logger.warn('console action failed', { ...log, keyId: session.caller.keyId, error });
      throw err;
    }
  };
}

/** GET /console/nodes/screenshot?node=: the worker's tab as a PNG. */
export function screenshotHandler(deps: ActionDeps) {
  return async function consoleScreenshot(req: Request, res: Response): Promise<void> {
    const node = registeredNode(deps, req.query['node']);
    const session = consoleSessionOf(res);
    const answer = await callWorker(deps, node, 'GET', '/admin/browser/screenshot', session.key);
    if (!answer.contentType.startsWith('image/png')) {
      throw new UpstreamError('The worker did not answer with a PNG.');
    }
    res.type('png').set('cache-control', 'no-store').send(answer.body);
  };
}
