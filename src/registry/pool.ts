/**
 * The PostgreSQL pool: bounded connect and query times, so a database that hangs cannot stall a
 * heartbeat, and an error handler, so a server restart cannot crash the process through an idle
 * client's error.
 */
import pg from 'pg';
import type { DatabaseConfig } from '../config.ts';
import type { Logger } from '../logging.ts';

export interface PoolOptions {
  readonly max?: number;
  readonly connectTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
  readonly logger?: Logger;
}

/** A pg.Pool for `database` (config.database). The caller ends it. */
export function createPool(database: DatabaseConfig, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: database.connectionString,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    query_timeout: options.queryTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'gemini-kasm',
  });
  pool.on('error', (err) => {
    // An idle client lost its server; the pool replaces it on the next query.
    options.logger?.debug('idle PostgreSQL client failed', { err: err.message });
  });
  // A client still closing when the server goes (pool.end() during a restart) reports its error
  // after the pool has let go of it; without a listener that would crash the process.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
