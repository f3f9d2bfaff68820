/**
 * @module gateway/server
 * The gateway's HTTP server. `Expect: 100-continue` gets its `100 Continue` only when the request
 * may send its body: a client route without an accepted key is answered 401 at once, so the
 * client never uploads a body that would be refused unread.
 */
import http, { type IncomingMessage, type RequestListener } from 'node:http';
import type { KeyRing } from '../http/index.ts';
import { headerKey } from '../http/index.ts';
import { queryKey } from './fast-path.ts';

/** The routes that refuse a request without a key before reading its body (as app.ts mounts). */
const KEYED_PREFIXES = [
  '/v1',
  '/v1beta',
  '/images',
  '/upload',
  '/conversations',
  '/dashboard',
  '/api/nodes',
  '/metrics',
];

/** Creates the gateway's server over its request listener. */
export function createGatewayServer(listener: RequestListener, keys: KeyRing): http.Server {
  const server = http.createServer(listener);
  server.on('checkContinue', (req: IncomingMessage, res: http.ServerResponse) => {
    if (mayUpload(keys, req)) {
      res.writeContinue();
    }
    listener(req, res);
  });
  return server;
}

/** False when the request is on a keyed route without an accepted key (it will be refused). */
function mayUpload(keys: KeyRing, req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const end = url.search(/[?#]/);
  // express matches paths case-insensitively.
  const path = (end < 0 ? url : url.slice(0, end)).toLowerCase();
  if (!KEYED_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) {
    return true;
  }
  const search = end >= 0 && url[end] === '?' ? url.slice(end).split('#')[0]! : '';
  const key = headerKey(req.headers) ?? (path.startsWith('/v1beta/') ? queryKey(search) : null);
  return keys.identify(key) !== null;
}
