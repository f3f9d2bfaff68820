/**
 * A PostgreSQL database of the test's own on the shared server, so that no other suite's
 * registry rows reach this gateway; dropped (with its connections) at the end.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** A database made for one test. */
export interface ScratchDatabase {
  readonly url: string;
  /** Drops the database, cutting any connection left; idempotent. */
  drop(): Promise<void>;
}

/** Creates `gk_<prefix>_<uuid>` on the server of `serverUrl`. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<ScratchDatabase> {
  const name = `gk_${prefix}_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let dropping: Promise<void> | null = null;
  return {
    url: url.toString(),
    drop: () => {
      dropping ??= (async () => {
        const client = new pg.Client({ connectionString: serverUrl });
        await client.connect();
        try {
          await client.query(`drop database if exists ${name} with (force)`);
        } finally {
          await client.end();
        }
      })();
      return dropping;
    },
  };
}
