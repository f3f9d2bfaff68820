/**
 * The request listener: dispatch by Host header, one record per request (the control API
 * excepted), identity from the cookies, and errors turned into 400/404/413/500, never a crash.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleAccounts } from './accounts-host.ts';
import { CONTROL_PREFIX, handleControl, type ControlTarget } from './control-api.ts';
import { BATCH_PATH, GENERATE_PATH, handleGemini, isAppPath } from './gemini-host.ts';
import { BodyTooLargeError, send, type Handler, type RequestContext } from './http-io.ts';
import { handleFife, handleUserContent } from './images.ts';
import { parseCookieHeader } from './session-cookies.ts';
import type { EmulatorState } from './state.ts';
import type { RecordKind, UpstreamRecord } from './types.ts';
import { handleUpload } from './upload.ts';
import { handleWww } from './www-host.ts';

/** Builds the listener for the HTTPS server; `closing` aborts requests still streaming. */
export function createRequestListener(
  state: EmulatorState,
  control: ControlTarget,
  closing: AbortSignal,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const host = hostOf(req);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', `https://${host || 'invalid.host'}`);
    } catch {
      res.writeHead(400).end('Bad Request');
      return;
    }
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      void handleControl(req, res, url, control);
      return;
    }
    void serve(state, req, res, url, host, closing);
  };
}

async function serve(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  host: string,
  closing: AbortSignal,
): Promise<void> {
  const method = req.method ?? 'GET';
  const record = state.records.open({
    host,
    method,
    path: url.pathname,
    kind: classify(host, url.pathname, method),
  });
  const cookies = parseCookieHeader(req.headers.cookie);
  const identity = state.accounts.identify(cookies);
  record.email = identity.account?.email ?? null;
  record.userAgent = req.headers['user-agent'] ?? null;
  const signal = requestSignal(state, res, record, closing);
  const ctx: RequestContext = { req, res, url, host, cookies, identity, record, state, signal };
  try {
    await (routeFor(host) ?? notFound)(ctx);
  } catch (err) {
    fail(ctx, err);
  }
}

/** Aborted when the response closes (finished or cut) or the emulator closes. */
function requestSignal(
  state: EmulatorState,
  res: ServerResponse,
  record: UpstreamRecord,
  closing: AbortSignal,
): AbortSignal {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  closing.addEventListener('abort', abort, { once: true });
  res.once('close', () => {
    closing.removeEventListener('abort', abort);
    record.endedAt ??= state.now();
    abort();
    const { host, method, path, kind, status, fault } = record;
    state.logger?.debug('emulator: request', { host, method, path, kind, status, fault });
  });
  return controller.signal;
}

function routeFor(host: string): Handler | null {
  if (host === 'gemini.google.com') {
    return handleGemini;
  }
  if (host === 'accounts.google.com') {
    return handleAccounts;
  }
  if (host === 'www.google.com' || host === 'google.com') {
    return handleWww;
  }
  if (host === 'content-push.googleapis.com') {
    return handleUpload;
  }
  if (host.endsWith('.googleusercontent.com')) {
    return handleUserContent;
  }
  if (host.endsWith('.usercontent.google.com')) {
    return handleFife;
  }
  return null;
}

/** The record kind of a request, decided from its host, path and method alone. */
export function classify(host: string, path: string, method: string): RecordKind {
  if (host === 'gemini.google.com') {
    return path === GENERATE_PATH
      ? 'generate'
      : path === BATCH_PATH
        ? 'batchexecute'
        : isAppPath(path)
          ? 'app'
          : 'other';
  }
  if (host === 'accounts.google.com') {
    const kinds: Record<string, RecordKind> = {
      '/signin': method === 'POST' ? 'signin' : 'other',
      '/Logout': 'signout',
      '/RotateCookies': 'rotate',
      '/ListAccounts': 'list_accounts',
    };
    return kinds[path] ?? 'other';
  }
  if (host === 'www.google.com' && path === '/') {
    return 'preflight';
  }
  if (host === 'content-push.googleapis.com' && path === '/upload' && method !== 'OPTIONS') {
    return 'upload';
  }
  return host.endsWith('.googleusercontent.com') || host.endsWith('.usercontent.google.com')
    ? 'image'
    : 'other';
}

function notFound(ctx: RequestContext): void {
  send(ctx, 404, 'Not Found');
}

function fail(ctx: RequestContext, err: unknown): void {
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  if (err instanceof BodyTooLargeError) {
    send(ctx, 413, 'Payload Too Large', { connection: 'close' });
    return;
  }
  ctx.state.logger?.error('emulator: request failed', {
    host: ctx.host,
    path: ctx.url.pathname,
    err,
  });
  send(ctx, 500, 'Internal Server Error');
}

function hostOf(req: IncomingMessage): string {
  const raw = req.headers.host ?? req.headers[':authority'];
  const value = (Array.isArray(raw) ? raw[0] : raw) ?? '';
  // Strip the port; an IPv6 literal keeps its brackets.
  return value.toLowerCase().replace(/:\d+$/, '');
}
