/**
 * The chaos cluster runs with real keys, generated per run: a user key for the load, an admin key
 * for /health details and /metrics.
 */
import { randomBytes } from 'node:crypto';

export const CHAOS_KEYS = {
  user: `sk-chaos-user-${randomBytes(12).toString('hex')}`,
  admin: `sk-chaos-admin-${randomBytes(12).toString('hex')}`,
} as const;

/** The environment that gives the gateway and the workers these keys. */
export const CHAOS_KEY_ENV = {
  API_KEYS: CHAOS_KEYS.user,
  ADMIN_API_KEYS: CHAOS_KEYS.admin,
  ALLOW_NO_AUTH: '',
} as const;

/** Headers for admin reads (/health details, /metrics). */
export const ADMIN_HEADERS = { authorization: `Bearer ${CHAOS_KEYS.admin}` } as const;
