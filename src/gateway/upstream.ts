/**
 * @module gateway/upstream
 * One attempt against a worker node over undici, and the relay of its body to the client with
 * backpressure: a chunk goes out as it arrives; when the client's socket is full, the upstream
 * body is paused until `drain`.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Upstream response headers as undici gives them. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** One attempt's result: a response (headers arrived) or a failure before any header. */
export type AttemptResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: UpstreamHeaders;
      readonly body: Readable;
    }
  | { readonly kind: 'network'; readonly code: string | null; readonly error: unknown };

/** A request to send to a node. */
export interface UpstreamRequest {
  readonly nodeUrl: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly signal: AbortSignal;
}

interface Target {
  readonly origin: string;
  /** The node URL's own path, if it has one, without the trailing slash. */
  readonly base: string;
}

/** Node URLs split once: the registry names few nodes, and every request goes to one. */
const targets = new Map<string, Target>();
const MAX_TARGETS = 1000;

function targetOf(nodeUrl: string): Target {
  let target = targets.get(nodeUrl);
  if (target === undefined) {
    const url = new URL(nodeUrl);
    target = { origin: url.origin, base: url.pathname.replace(/\/+$/, '') };
    if (targets.size >= MAX_TARGETS) {
      targets.clear();
    }
    targets.set(nodeUrl, target);
  }
  return target;
}

/** Sends one POST; never throws (a failure before the response is a 'network' result). */
export async function sendAttempt(
  dispatcher: Dispatcher,
  req: UpstreamRequest,
): Promise<AttemptResult> {
  try {
    const target = targetOf(req.nodeUrl);
    // Straight to the pooled dispatcher: no URL string to build and parse again per request.
    const res = await dispatcher.request({
      origin: target.origin,
      path: `${target.base}${req.path}`,
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
    return { kind: 'response', status: res.statusCode, headers: res.headers, body: res.body };
  } catch (error) {
    return { kind: 'network', code: errorCode(error), error };
  }
}

/** The string `code` of an error or of its cause, if any. */
export function errorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; e && depth < 3; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') {
      return e.code;
    }
    e = typeof e === 'object' && 'cause' in e ? e.cause : null;
  }
  return null;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** The headers to pass to the client: hop-by-hop ones (and any Connection names) dropped. */
export function forwardableHeaders(headers: UpstreamHeaders): Record<string, string | string[]> {
  const named = String(headers['connection'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && !HOP_BY_HOP.has(lower) && !named.includes(lower)) {
      out[lower] = value;
    }
  }
  return out;
}

/** Reads a (small, error) body whole; null when it is longer than maxBytes or fails. */
export async function readCapped(body: Readable, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      size += buf.length;
      if (size > maxBytes) {
        body.destroy();
        return null;
      }
      chunks.push(buf);
    }
  } catch {
    return null;
  }
  return Buffer.concat(chunks);
}

/** How a relay ended. */
export type RelayEnd = 'done' | 'upstream_error' | 'client_gone';

/**
 * Copies `body` to `res` chunk by chunk, pausing on a full socket until `drain`. `onChunk` sees
 * each chunk once it is written. Does not end `res` on an upstream error (the caller decides).
 */
export function relay(
  body: Readable,
  res: ServerResponse,
  onChunk: (chunk: Buffer) => void,
): Promise<RelayEnd> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (end: RelayEnd): void => {
      if (!settled) {
        settled = true;
        res.off('close', onClose);
        resolve(end);
      }
    };
    const onClose = (): void => {
      if (!res.writableFinished) {
        body.destroy();
        finish('client_gone');
      }
    };
    if (res.destroyed) {
      body.destroy();
      finish('client_gone');
      return;
    }
    res.on('close', onClose);
    body.on('data', (chunk: Buffer) => {
      // Out to the client first: what onChunk reads (the answer tap) must not delay a token.
      const full = !res.write(chunk);
      onChunk(chunk);
      if (full) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    body.once('end', () => {
      res.end(() => finish('done'));
    });
    body.once('error', () => finish('upstream_error'));
  });
}
