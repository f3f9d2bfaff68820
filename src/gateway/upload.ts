/**
 * @module gateway/upload
 * POST /upload through the gateway: the multipart body is streamed to one node as it arrives
 * (never parsed, never buffered), and the file ids in that node's answer are bound to it, so a
 * later chat request that names them goes to the node that holds the files. An upload touches no
 * Google service on the worker, but its body can be read only once, so it is never retried.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Dispatcher } from 'undici';
import { ServiceUnavailableError, UpstreamError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { pick } from './balancer.ts';
import { fileKey, requestIdOf, upstreamHeaders } from './chat-request.ts';
import type { InFlight } from './in-flight.ts';
import { assertRoutable } from './node-source.ts';
import type { BindingStore, NodeProvider, NodeRecord } from './types.ts';
import { errorCode, forwardableHeaders, readCapped } from './upstream.ts';
import { classifyNetworkError } from './failover.ts';

/** What the upload route needs. */
export interface UploadDeps {
  readonly nodes: NodeProvider;
  readonly bindings: BindingStore;
  readonly inFlight: InFlight;
  readonly dispatcher: Dispatcher;
  readonly nodeFreshMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

const ANSWER_MAX_BYTES = 64 * 1024;

/** POST /upload. */
export function uploadHandler(deps: UploadDeps): RequestHandler {
  return async function upload(req, res) {
    const snapshot = deps.nodes.snapshot();
    const now = deps.now();
    assertRoutable(snapshot, now);
    const node = pick(snapshot.nodes, now, {
      nodeFreshMs: deps.nodeFreshMs,
      inFlight: deps.inFlight.counts(),
    });
    const release = deps.inFlight.acquire(node.nodeUrl);
    try {
      await sendUpload(deps, node, req, res);
    } finally {
      release();
    }
  };
}

async function sendUpload(
  deps: UploadDeps,
  node: NodeRecord,
  req: Request,
  res: Response,
): Promise<void> {
  const headers = upstreamHeaders(req.headers, requestIdOf(req.headers), req.socket.remoteAddress);
  headers['content-type'] = String(req.headers['content-type'] ?? 'application/octet-stream');
  if (typeof req.headers['content-length'] === 'string') {
    headers['content-length'] = req.headers['content-length'];
  }
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await deps.dispatcher.request({
      origin: node.nodeUrl,
      path: '/upload',
      method: 'POST',
      headers,
      body: req,
    });
  } catch (err) {
    deps.logger.warn('upload to worker node failed', { node: node.nodeUrl, code: errorCode(err) });
    throw classifyNetworkError(errorCode(err)) === 'unreachable'
      ? new ServiceUnavailableError('No worker node could take the upload.', 5, {
          code: 'upstream_unavailable',
        })
      : new UpstreamError('The worker node failed while taking the upload.');
  }
  const body = await readCapped(upstream.body, ANSWER_MAX_BYTES);
  if (body === null) {
    throw new UpstreamError('The worker node sent an unreadable upload answer.');
  }
  if (upstream.statusCode >= 200 && upstream.statusCode < 300) {
    await bindFiles(deps, node, body);
  }
  const out = forwardableHeaders(upstream.headers);
  delete out['content-length'];
  res.status(upstream.statusCode).set(out).end(body);
}

/** Binds the answer's file ids to the node, and writes them before the client hears of them. */
async function bindFiles(deps: UploadDeps, node: NodeRecord, body: Buffer): Promise<void> {
  let files: unknown;
  try {
    files = (JSON.parse(body.toString('utf8')) as { files?: unknown }).files;
  } catch {
    return;
  }
  if (!Array.isArray(files)) {
    return;
  }
  const keys = files.filter((f): f is string => typeof f === 'string').map(fileKey);
  await deps.bindings.save(keys, { nodeUrl: node.nodeUrl, account: node.account });
  // Another replica may get the chat that names these files next.
  await deps.bindings.flush?.();
}
