/**
 * cookie_cache.json: the last good cookies, so the worker can serve while Chrome is away.
 * Keeps the seed's keys (`SECURE_1PSID`, `SECURE_1PSIDTS`, `updated_at`) and adds the full list.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { registerCookie } from '../logging.ts';
import type { Cookie, CookieSource } from '../gemini/index.ts';

export const COOKIE_CACHE_FILE = 'cookie_cache.json';

interface CookieCacheFile {
  SECURE_1PSID?: string;
  SECURE_1PSIDTS?: string;
  updated_at?: string;
  cookies?: Cookie[];
}

/** Reads the cache; a missing, empty or broken file yields no cookies. */
export async function readCookieCache(file: string): Promise<Cookie[]> {
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch {
    return [];
  }
  if (raw.trim() === '') {
    return [];
  }
  let data: CookieCacheFile | null;
  try {
    data = JSON.parse(raw) as CookieCacheFile | null;
  } catch {
    return [];
  }
  if (data === null || typeof data !== 'object') {
    return [];
  }
  const cookies = Array.isArray(data.cookies) ? data.cookies.filter(isCookie) : [];
  // A seed-era file carries only the two keys; turn them into cookies.
  for (const [key, name] of [
    ['SECURE_1PSID', '__Secure-1PSID'],
    ['SECURE_1PSIDTS', '__Secure-1PSIDTS'],
  ] as const) {
    const value = data[key];
    if (value && !cookies.some((c) => c.name === name)) {
      cookies.push({ name, value, domain: '.google.com', path: '/', secure: true, httpOnly: true });
    }
  }
  cookies.forEach(registerCookie);
  return cookies;
}

/** Writes the cache atomically (temp file + rename) with mode 0600. */
export async function writeCookieCache(file: string, cookies: readonly Cookie[]): Promise<void> {
  const body: CookieCacheFile = {
    SECURE_1PSID: cookies.find((c) => c.name === '__Secure-1PSID')?.value ?? '',
    SECURE_1PSIDTS: cookies.find((c) => c.name === '__Secure-1PSIDTS')?.value ?? '',
    updated_at: new Date().toISOString(),
    cookies: [...cookies],
  };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, text, { mode: 0o600 });
    await fs.chmod(tmp, 0o600);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    // A file bind-mounted on its own (docker -v file:file) cannot be replaced, only rewritten.
    if (!isErrno(err, 'EBUSY') && !isErrno(err, 'EXDEV')) {
      throw err;
    }
    await fs.writeFile(file, text, { mode: 0o600 });
    await fs.chmod(file, 0o600);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === code;
}

function isCookie(c: unknown): c is Cookie {
  const o = c as Partial<Cookie> | null;
  return typeof o?.name === 'string' && typeof o.value === 'string' && typeof o.domain === 'string';
}

/** A cookie source fed by cookie_cache.json alone (no browser attached). */
export class FileCookieSource implements CookieSource {
  private cached: Cookie[] | null = null;

  constructor(private readonly file: string) {}

  async getCookies(): Promise<Cookie[]> {
    this.cached ??= await readCookieCache(this.file);
    return this.cached;
  }

  invalidate(): void {
    this.cached = null;
  }

  async refresh(): Promise<void> {
    this.invalidate();
    await this.getCookies();
  }

  async absorb(cookies: Cookie[]): Promise<void> {
    const current = await this.getCookies();
    const merged = mergeCookies(current, cookies);
    this.cached = merged;
    await writeCookieCache(this.file, merged);
  }
}

/** Newer cookies replace older ones with the same name, domain and path. */
export function mergeCookies(current: readonly Cookie[], incoming: readonly Cookie[]): Cookie[] {
  const key = (c: Cookie) => `${c.name}\u0000${c.domain}\u0000${c.path}`;
  const map = new Map(current.map((c) => [key(c), c]));
  for (const c of incoming) {
    registerCookie(c);
    map.set(key(c), c);
  }
  return [...map.values()];
}
