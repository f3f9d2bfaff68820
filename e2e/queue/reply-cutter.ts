/**
 * A TCP relay in front of the shared Redis that loses one reply, as a network drop would: the
 * command that carries the armed marker reaches Redis whole (which runs it), then the client's
 * side of that connection is cut before any reply comes back. Every other byte passes untouched.
 */
import net from 'node:net';

/** The relay: connect to `url`; `arm(marker)` cuts the next command carrying it. */
export interface ReplyCutter {
  readonly url: string;
  arm(marker: string): void;
  /** Resolves once a command was let through and its client cut off. */
  readonly cut: Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay to the Redis at `redisUrl` on a free loopback port. */
export async function startReplyCutter(redisUrl: string): Promise<ReplyCutter> {
  const target = new URL(redisUrl);
  let marker: Buffer | null = null;
  let onCut = (): void => undefined;
  const cut = new Promise<void>((resolve) => (onCut = resolve));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const redis = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(redis);
    client.on('data', (chunk: Buffer) => {
      redis.write(chunk);
      if (marker && chunk.includes(marker)) {
        marker = null;
        client.destroy();
        // Redis reads the whole command before it sees the end, so it runs it.
        redis.end();
        onCut();
      }
    });
    redis.on('data', (chunk: Buffer) => {
      if (!client.destroyed) {
        client.write(chunk);
      }
    });
    client.on('close', () => redis.end());
    redis.on('close', () => client.destroy());
    client.on('error', () => undefined);
    redis.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    arm: (m) => {
      marker = Buffer.from(m);
    },
    cut,
    close: async () => {
      for (const s of sockets) {
        s.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
