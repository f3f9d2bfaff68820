/**
 * The gateway role: migrate the registry, then serve the gateway over it.
 */
import pg from 'pg';
import type { Config } from '../config.ts';
import { Gateway } from '../gateway/index.ts';
import { registerUrlPassword, type Logger } from '../logging.ts';
import { KeyRing, checkAuthConfigured } from '../http/index.ts';
import { createPool, migrate } from '../registry/index.ts';
import type { RunningService } from './worker.ts';

/** Starts the gateway; resolves once it listens. */
export async function startGateway(
  config: Readonly<Config>,
  logger: Logger,
): Promise<RunningService> {
  registerUrlPassword(config.database.connectionString);
  // Refuse before touching the database; Gateway.listen() checks again and warns.
  checkAuthConfigured(new KeyRing(config), () => {});
  const pool: pg.Pool = createPool(config.database);
  await migrate(pool);
  const gateway = new Gateway(config, logger, pool);
  const port = await gateway.listen();
  logger.info('gateway listening', { port });
  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      closing ??= gateway.close().then(() => pool.end());
      return closing;
    },
  };
}
