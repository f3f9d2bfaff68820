/**
 * Applies src/registry/migrations/NNNN_*.sql in order, each once, each in its own transaction,
 * under a PostgreSQL advisory lock so that workers starting together do not race. Applied files
 * are tracked in gemini_schema_migrations; running again is a no-op.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../logging.ts';

/** The folder shipped with the code. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

// Any constant shared by every process of this schema; pg_advisory_lock takes a bigint.
const LOCK_KEY = '7243018816211345011';
const FILE_PATTERN = /^(\d{4})_[A-Za-z0-9_-]+\.sql$/;

/** One migration file. */
export interface Migration {
  /** The 4-digit prefix: the order and the identity. */
  readonly version: string;
  readonly name: string;
  readonly file: string;
}

/** The `NNNN_*.sql` files of `dir`, in version order. Throws on a version used twice. */
export async function listMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await fs.readdir(dir);
  const found: Migration[] = [];
  for (const name of entries) {
    const m = FILE_PATTERN.exec(name);
    if (m?.[1]) {
      found.push({ version: m[1], name, file: path.join(dir, name) });
    }
  }
  found.sort((a, b) => a.version.localeCompare(b.version));
  for (let i = 1; i < found.length; i += 1) {
    if (found[i]?.version === found[i - 1]?.version) {
      throw new Error(`two migrations share version ${found[i]?.version}`);
    }
  }
  return found;
}

export interface MigrateOptions {
  readonly dir?: string;
  readonly logger?: Logger;
}

/** Applies every pending migration; returns the names applied now. */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<string[]> {
  const migrations = await listMigrations(options.dir);
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      return await applyPending(client, migrations, options.logger);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {
        broken = true;
      });
    }
  } finally {
    // A client that could not unlock must not go back to the pool still holding the lock.
    client.release(broken);
  }
}

async function applyPending(
  client: pg.PoolClient,
  migrations: Migration[],
  logger: Logger | undefined,
): Promise<string[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS gemini_schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await client.query<{ version: string }>(
    'SELECT version FROM gemini_schema_migrations',
  );
  const done = new Set(rows.map((r) => r.version));
  const applied: string[] = [];
  for (const m of migrations.filter((x) => !done.has(x.version))) {
    await applyOne(client, m);
    logger?.info('migration applied', { migration: m.name });
    applied.push(m.name);
  }
  return applied;
}

async function applyOne(client: pg.PoolClient, m: Migration): Promise<void> {
  const sql = await fs.readFile(m.file, 'utf8');
  const checksum = createHash('sha256').update(sql).digest('hex');
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await client.query(
      'INSERT INTO gemini_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
      [m.version, m.name, checksum],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
  }
}
