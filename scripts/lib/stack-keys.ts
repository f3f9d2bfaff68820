/**
 * The local stack's API keys: one user key (API_KEYS) and one admin key (ADMIN_API_KEYS),
 * generated on the first run and kept in DIR/api-keys.json (mode 600) so that a restarted stack
 * takes the same ones. Keys set in the environment win and are never written down.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';

/** The keys the workers and the gateway get, and where they came from. */
export interface StackKeys {
  /** Comma-separated, as API_KEYS. */
  readonly apiKeys: string;
  /** Comma-separated, as ADMIN_API_KEYS. */
  readonly adminApiKeys: string;
  /** The file that holds them, or null when they came from the environment. */
  readonly file: string | null;
}

const keysFileSchema = z.object({ apiKeys: z.string().min(1), adminApiKeys: z.string().min(1) });

function newKey(role: 'user' | 'admin'): string {
  return `gk-${role}-${randomBytes(24).toString('base64url')}`;
}

/** The first key of a comma-separated list ('' when none). */
export function firstKey(list: string): string {
  return (
    list
      .split(',')
      .map((k) => k.trim())
      .find((k) => k !== '') ?? ''
  );
}

/** The environment's API_KEYS / ADMIN_API_KEYS, or the keys in `file` (created when missing). */
export function stackKeys(file: string, env: NodeJS.ProcessEnv = process.env): StackKeys {
  const fromEnv = (env['API_KEYS'] ?? '').trim();
  if (fromEnv !== '') {
    return { apiKeys: fromEnv, adminApiKeys: (env['ADMIN_API_KEYS'] ?? '').trim(), file: null };
  }
  try {
    const saved = keysFileSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return { ...saved, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} is not a keys file of ours; move it away to get new keys`, {
        cause: err,
      });
    }
  }
  const created = { apiKeys: newKey('user'), adminApiKeys: newKey('admin') };
  fs.writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { ...created, file };
}

/** The variables every role of the stack gets. */
export function keysEnv(keys: StackKeys): Record<string, string> {
  return { API_KEYS: keys.apiKeys, ADMIN_API_KEYS: keys.adminApiKeys };
}
