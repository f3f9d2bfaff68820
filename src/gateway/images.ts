/**
 * @module gateway/images
 * GET /images/... through the gateway. A worker links generated images under its own /images;
 * answers that came through the gateway link them here instead (the worker builds links from
 * X-Forwarded-Host). Image paths are unique, so the gateway asks the fresh nodes in turn and
 * relays the first that has the file.
 */
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Dispatcher } from 'undici';
import { NotFoundError } from '../errors.ts';
import { isFresh } from './balancer.ts';
import type { NodeProvider } from './types.ts';

export interface ImageRouteDeps {
  readonly nodes: NodeProvider;
  readonly dispatcher: Dispatcher;
  readonly nodeFreshMs: number;
  readonly now: () => number;
}

const SAFE_PATH = /^\/images\/[\w./-]+$/;

/** The client's key headers, for the worker to decide ownership with. */
export function credentialsOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['authorization', 'x-api-key'] as const) {
    const value = req.headers[name];
    if (typeof value === 'string') {
      out[name] = value;
    }
  }
  return out;
}

/** The express handler for GET /images/{*path}. */
export function imagesHandler(deps: ImageRouteDeps) {
  return async function relayImage(req: Request, res: Response): Promise<void> {
    if (!SAFE_PATH.test(req.path) || req.path.includes('..')) {
      throw new NotFoundError('No such image.');
    }
    const now = deps.now();
    const nodes = deps.nodes.snapshot().nodes.filter((n) => isFresh(n, now, deps.nodeFreshMs));
    for (const node of nodes) {
      const upstream = await deps.dispatcher
        // The worker decides who may see the image: it needs the client's key.
        .request({
          origin: node.nodeUrl,
          path: req.path,
          method: 'GET',
          headers: credentialsOf(req),
        })
        .catch(() => null);
      if (upstream?.statusCode === 200) {
        res.status(200).set({
          'content-type': String(upstream.headers['content-type'] ?? 'application/octet-stream'),
          'cache-control': 'private, max-age=604800',
        });
        await pipeline(upstream.body, res);
        return;
      }
      await upstream?.body.dump();
    }
    throw new NotFoundError('No such image.');
  };
}
