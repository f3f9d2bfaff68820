/**
 * account_state.json in DATA_DIR: the local copy of the cooldown, so a cooldown outlives both a
 * restart and a Redis flush. Written atomically (temp file + rename).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Cooldown } from './types.ts';

/** File name of the account state, inside DATA_DIR. */
export const ACCOUNT_STATE_FILE = 'account_state.json';

const fileSchema = z.object({
  version: z.literal(1),
  account: z.string(),
  cooldown: z
    .object({ until: z.number().int().nonnegative(), reason: z.string().min(1) })
    .nullable(),
  updatedAt: z.string(),
});

/** Where the file lives. */
export function stateFilePath(dataDir: string): string {
  return path.join(dataDir, ACCOUNT_STATE_FILE);
}

/**
 * The cooldown stored for `account`, or null when there is none, the file is missing, unreadable,
 * or belongs to another account.
 */
export async function readStateFile(dataDir: string, account: string): Promise<Cooldown | null> {
  let text: string;
  try {
    text = await fs.readFile(stateFilePath(dataDir), 'utf8');
  } catch {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success || parsed.data.account !== account || !parsed.data.cooldown) {
    return null;
  }
  // The reason is kept as written: a newer build may know reasons this one does not.
  return parsed.data.cooldown as Cooldown;
}

/** Replaces the file atomically; readers see the old or the new content, never half of one. */
export async function writeStateFile(
  dataDir: string,
  account: string,
  cooldown: Cooldown | null,
  nowMs: number,
): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true });
  const target = stateFilePath(dataDir);
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const body = {
    version: 1,
    account,
    cooldown,
    updatedAt: new Date(nowMs).toISOString(),
  };
  try {
    await fs.writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o644 });
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
