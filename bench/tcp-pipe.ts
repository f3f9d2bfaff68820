/**
 * The floor under any Node proxy, for the bench: a TCP relay with no HTTP at all. Each client
 * connection gets its own connection to the upstream, and bytes are piped both ways as they come.
 * It cannot route, check a key or fail over; it shows what Node's sockets cost by themselves, so
 * the bare Node proxy's figure over it is node:http's and undici's.
 *
 * `node --import tsx bench/tcp-pipe.ts <port> <upstream origin>`
 */
import net from 'node:net';

const [port, origin] = process.argv.slice(2);
const upstream = new URL(origin!);

net
  .createServer({ noDelay: true }, (client) => {
    const up = net.connect({ host: upstream.hostname, port: Number(upstream.port), noDelay: true });
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
