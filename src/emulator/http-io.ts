/**
 * The per-request context handed to every route, and the few response helpers they share.
 * Every response goes through `begin` so the request's record always carries the status sent.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Identity } from './accounts.ts';
import type { EmulatorState } from './state.ts';
import type { UpstreamRecord } from './types.ts';

/** What a route handler receives. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Lower-case host name without the port. */
  readonly host: string;
  readonly cookies: ReadonlyMap<string, string>;
  readonly identity: Identity;
  readonly record: UpstreamRecord;
  readonly state: EmulatorState;
  /** Aborted when the client goes away or the emulator closes. */
  readonly signal: AbortSignal;
}

/** A route handler. */
export type Handler = (ctx: RequestContext) => Promise<void> | void;

/** Raised when a request body is larger than the route accepts. */
export class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
    this.name = 'BodyTooLargeError';
  }
}

/** Writes the status line and headers, and notes the status in the record. */
export function begin(ctx: RequestContext, status: number, headers: OutgoingHttpHeaders): void {
  ctx.record.status = status;
  ctx.res.writeHead(status, headers);
}

/** Ends the response; the record's endedAt is stamped now, before the client can read the end. */
export function end(ctx: RequestContext, chunk?: string | Buffer): void {
  ctx.record.endedAt ??= ctx.state.now();
  if (chunk === undefined) {
    ctx.res.end();
  } else {
    ctx.res.end(chunk);
  }
}

/** Destroys the connection mid-response, as a dropped upstream does. */
export function drop(ctx: RequestContext): void {
  ctx.record.endedAt ??= ctx.state.now();
  ctx.req.socket.destroy();
}

/** A complete response. */
export function send(
  ctx: RequestContext,
  status: number,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = {},
): void {
  begin(ctx, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  end(ctx, body);
}

/** An HTML page. */
export function sendHtml(
  ctx: RequestContext,
  status: number,
  html: string,
  headers: OutgoingHttpHeaders = {},
): void {
  send(ctx, status, html, { 'content-type': 'text/html; charset=utf-8', ...headers });
}

/** A JSON body. */
export function sendJson(
  ctx: RequestContext,
  status: number,
  value: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(ctx, status, JSON.stringify(value), {
    'content-type': 'application/json; charset=utf-8',
    ...headers,
  });
}

/** A 302 to `location`. */
export function redirect(
  ctx: RequestContext,
  location: string,
  headers: OutgoingHttpHeaders = {},
): void {
  send(ctx, 302, '', { location, ...headers });
}

/** Reads the whole body, refusing more than `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      throw new BodyTooLargeError();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
