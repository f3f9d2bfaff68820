/**
 * Redis as a child process on loopback, without persistence.
 */
import { findBinaries } from './binaries.ts';
import { ManagedProcess, waitForListening } from './managed-process.ts';
import { freePort } from './ports.ts';
import { createServiceHandle, type LocalServiceHandle } from './service-handle.ts';

/** Where Redis listens and where its output goes; every field is optional. */
export interface RedisOptions {
  /** A fixed port; a free one by default. */
  readonly port?: number;
  /** The redis-server binary; found by findBinaries() by default. */
  readonly bin?: string;
  /** Appends its output here; discarded by default. */
  readonly logFile?: string;
  /** Its own process group, so a terminal's Ctrl-C reaches only the parent. */
  readonly detached?: boolean;
}

/** Redis with no persistence on a free (or the given) port. */
export async function startRedis(options: RedisOptions = {}): Promise<LocalServiceHandle> {
  const port = options.port ?? (await freePort());
  const bin = options.bin ?? findBinaries({}, ['redis']).redisServer;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const handle = createServiceHandle({
    url: `redis://127.0.0.1:${port}`,
    port,
    stopSignal: 'SIGTERM',
    launch: () =>
      ManagedProcess.spawn({
        name: 'redis',
        command: bin,
        args,
        logFile: options.logFile,
        detached: options.detached,
      }),
    ready: (child) => waitForListening(child, port, 20_000),
  });
  await handle.start();
  return handle;
}
