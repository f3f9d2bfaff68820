/**
 * Real PostgreSQL, Redis and Chromium as child processes on loopback, shared by the e2e tests
 * (through e2e/support/services.ts) and `npm run stack`. Each handle can be stopped, killed and
 * restarted on the same port and data, so fault tests can take a service away and bring it back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export { freePort, isPortFree, waitForPort } from './ports.ts';
export {
  createServiceHandle,
  type LocalServiceHandle,
  type ServiceHandle,
} from './service-handle.ts';
export { startRedis, type RedisOptions } from './redis.ts';
export { startPostgres, type PostgresOptions } from './postgres.ts';
export {
  chromiumArgs,
  startChromium,
  type ChromiumHandle,
  type ChromiumOptions,
} from './chromium.ts';
export {
  findBinaries,
  MissingBinariesError,
  type Binaries,
  type BinaryOverrides,
  type MissingBinary,
} from './binaries.ts';
export {
  ManagedProcess,
  ProcessExitedError,
  waitForListening,
  type ExitInfo,
  type ManagedProcessOptions,
} from './managed-process.ts';

/** A fresh directory under the OS temp dir, named `gk-<prefix>-…`. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gk-${prefix}-`));
}
