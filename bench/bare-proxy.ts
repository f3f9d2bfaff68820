/**
 * The floor under the gateway, for the bench: the smallest Node proxy that does what the gateway
 * does on the wire (node:http server, undici pooled Agent with keep-alive, body bytes forwarded,
 * the answer relayed as it comes) and nothing else: no routing, no key, no affinity, no metrics.
 * What the gateway adds over it is ours; what it adds over nginx is Node's.
 *
 * `node --import tsx bench/bare-proxy.ts <port> <upstream origin> [--dispatch]`
 * With `--dispatch` it relays through undici's low-level `dispatch` (a handler object, raw headers
 * straight to `writeHead`, no body stream) instead of `agent.request`: the cheaper floor.
 */
import http from 'node:http';
import { Agent } from 'undici';

const [port, origin, mode] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 60_000, pipelining: 1, connections: null });

/** What both floors send upstream: the client's path, key and body, nothing else. */
function upstreamRequest(req: http.IncomingMessage, body: Buffer) {
  return {
    origin: origin!,
    path: req.url ?? '/',
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      authorization: req.headers.authorization ?? '',
    },
    body,
  };
}

function viaRequest(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  agent.request(upstreamRequest(req, body)).then(
    (up) => {
      res.statusCode = up.statusCode;
      for (const [name, value] of Object.entries(up.headers)) {
        if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding') {
          res.setHeader(name, value);
        }
      }
      up.body.on('data', (c: Buffer) => res.write(c));
      up.body.once('end', () => res.end());
    },
    () => {
      res.statusCode = 502;
      res.end();
    },
  );
}

function viaDispatch(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  agent.dispatch(upstreamRequest(req, body), {
    onConnect() {},
    onHeaders(status: number, raw: Buffer[]) {
      const headers: string[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i]!.toString('latin1').toLowerCase();
        if (name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') {
          headers.push(name, raw[i + 1]!.toString('latin1'));
        }
      }
      res.writeHead(status, headers);
      return true;
    },
    onData(chunk: Buffer) {
      res.write(chunk);
      return true;
    },
    onComplete() {
      res.end();
    },
    onError() {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 502;
      res.end();
    },
  });
}

const relay = mode === '--dispatch' ? viaDispatch : viaRequest;
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.once('end', () => relay(req, res, Buffer.concat(chunks)));
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => process.exit(0));
