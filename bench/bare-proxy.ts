/**
 * The floor under the gateway, for the bench: the smallest Node proxy that does what the gateway
 * does on the wire (node:http server, undici pooled Agent with keep-alive, body bytes forwarded,
 * the answer relayed as it comes) and nothing else: no routing, no key, no affinity, no metrics.
 * What the gateway adds over it is ours; what it adds over nginx is Node's.
 *
 * `node --import tsx bench/bare-proxy.ts <port> <upstream origin>`
 */
import http from 'node:http';
import { Agent } from 'undici';

const [port, origin] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 60_000, pipelining: 1, connections: null });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.once('end', () => {
    agent
      .request({
        origin: origin!,
        path: req.url ?? '/',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: req.headers.authorization ?? '',
        },
        body: Buffer.concat(chunks),
      })
      .then(
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
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
process.once('SIGTERM', () => process.exit(0));
