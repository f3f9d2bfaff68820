/**
 * @module gateway/upstream
 * One attempt against a worker node over undici's low-level `dispatch` (no body stream: the
 * relay and its backpressure are in upstream-body.ts), and the header and body helpers the other
 * calls to workers share.
 */
import type { Readable } from 'node:stream';
import { util, type Dispatcher } from 'undici';
import { UpstreamBody } from './upstream-body.ts';

export { type RelayEnd } from './upstream-body.ts';

/** Upstream response headers as undici gives them. */
export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** One attempt's result: a response (headers arrived) or a failure before any header. */
export type AttemptResult =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: UpstreamHeaders;
      readonly body: UpstreamBody;
    }
  | { readonly kind: 'network'; readonly code: string | null; readonly error: unknown };

/** A request to send to a node. */
export interface UpstreamRequest {
  readonly nodeUrl: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly cancel: Cancel;
}

/**
 * The client's going away, told to the attempt in flight: a plain callback where an AbortSignal's
 * listener (an EventTarget per attempt) cost more than the rest of the attempt's setup.
 */
export class Cancel {
  #cancelled = false;
  #listener: (() => void) | null = null;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  cancel(): void {
    if (!this.#cancelled) {
      this.#cancelled = true;
      const listener = this.#listener;
      this.#listener = null;
      listener?.();
    }
  }

  /** Sets the one listener (the attempt in flight: attempts are sequential), null clears it. */
  listen(listener: (() => void) | null): void {
    this.#listener = listener;
  }
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

/**
 * Sends one POST over undici's `dispatch`; never throws (a failure before the response is a
 * 'network' result). The response's body is handed over as undici parses it (UpstreamBody).
 */
export function sendAttempt(dispatcher: Dispatcher, req: UpstreamRequest): Promise<AttemptResult> {
  return new Promise((resolve) => {
    try {
      const target = targetOf(req.nodeUrl);
      // Straight to the pooled dispatcher: no URL string to build and parse again per request.
      dispatcher.dispatch(
        {
          origin: target.origin,
          path: `${target.base}${req.path}`,
          method: 'POST',
          headers: req.headers,
          body: req.body,
        },
        new AttemptHandler(req.cancel, resolve),
      );
    } catch (error) {
      resolve({ kind: 'network', code: errorCode(error), error });
    }
  });
}

/**
 * undici's handler (its core interface, which undici calls without a wrapper) for one attempt:
 * resolves at the response's headers, or with the failure that came before them; afterwards
 * feeds the body. The request's Cancel aborts it at any point, as `request({ signal })` did.
 */
class AttemptHandler implements Dispatcher.DispatchHandler {
  #abort: ((reason: Error) => void) | null = null;
  #abortedWith: Error | null = null;
  #body: UpstreamBody | null = null;

  constructor(
    private readonly cancel: Cancel,
    private readonly resolve: (result: AttemptResult) => void,
  ) {
    if (cancel.cancelled) {
      this.#abortedWith = abortError();
    } else {
      cancel.listen(this.#onCancel);
    }
  }

  readonly #onCancel = (): void => {
    this.#abortedWith = abortError();
    this.#abort?.(this.#abortedWith);
  };

  onConnect(abort: (reason?: Error) => void): void {
    if (this.#abortedWith !== null) {
      abort(this.#abortedWith);
      return;
    }
    this.#abort = abort;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) {
      // An informational answer (103): the real one follows.
      return true;
    }
    const abort = this.#abort ?? (() => {});
    this.#body = new UpstreamBody(abort, resume);
    const headers = util.parseHeaders(rawHeaders) as UpstreamHeaders;
    this.resolve({ kind: 'response', status, headers, body: this.#body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#body?.push(chunk) ?? true;
  }

  onComplete(): void {
    this.cancel.listen(null);
    this.#body?.end();
  }

  onError(error: Error): void {
    this.cancel.listen(null);
    if (this.#body === null) {
      this.resolve({ kind: 'network', code: errorCode(error), error });
    } else {
      this.#body.fail();
    }
  }
}

/** What a cancelled attempt fails with: what an aborted AbortSignal gave undici before. */
function abortError(): Error {
  return new DOMException('This operation was aborted', 'AbortError');
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
