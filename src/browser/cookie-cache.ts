/**
 * cookie_cache.json: the last good cookies, so the worker can serve while Chrome is away.
 * Keeps the seed's keys (`SECURE_1PSID`, `SECURE_1PSIDTS`, `updated_at`) and adds the full list.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createLogger, registerCookie, type Logger } from '../logging.ts';
import type { Cookie, CookieSource } from '../gemini/index.ts';
import { CoalescedWriter } from './coalesced-writer.ts';

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

/** Knobs of a FileCookieSource. */
export interface FileCookieSourceOptions {
  readonly logger?: Logger;
  /** Least time between two writes of the file (default 1 s). */
  readonly writeIntervalMs?: number;
}

/**
 * A cookie source fed by cookie_cache.json alone (no browser attached). Received cookies serve
 * at once; the file is rewritten in the background, coalesced (see flush() and close()).
 */
export class FileCookieSource implements CookieSource {
  private cached: Cookie[] | null = null;
  private readonly writer: CoalescedWriter<Cookie[]>;

  constructor(
    private readonly file: string,
    options: FileCookieSourceOptions = {},
  ) {
    this.writer = new CoalescedWriter({
      what: 'saving cookie_cache.json',
      logger: options.logger ?? createLogger({ silent: true }),
      minIntervalMs: options.writeIntervalMs ?? 1000,
      write: (cookies) => writeCookieCache(file, cookies),
    });
  }

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

  /** Serves `cookies` from now on; the file follows in the background. */
  async absorb(cookies: Cookie[]): Promise<void> {
    const merged = withReceived(await this.getCookies(), cookies);
    this.cached = merged;
    this.writer.schedule(merged);
  }

  /** Resolves once the file holds everything absorbed so far. */
  async flush(): Promise<void> {
    await this.writer.flush();
  }

  /** Writes what is pending; later absorbs only change the served jar. Idempotent. */
  async close(): Promise<void> {
    await this.writer.close();
  }
}

/** What identifies a cookie in a jar: name, domain and path. */
export function cookieKey(c: Cookie): string {
  return `${c.name}\u0000${c.domain}\u0000${c.path}`;
}

/** Newer cookies replace older ones with the same name, domain and path. */
export function mergeCookies(current: readonly Cookie[], incoming: readonly Cookie[]): Cookie[] {
  const map = new Map(current.map((c) => [cookieKey(c), c]));
  for (const c of incoming) {
    registerCookie(c);
    map.set(cookieKey(c), c);
  }
  return [...map.values()];
}

/** The jar after receiving `incoming`: merged, and without what has expired (deletions). */
export function withReceived(current: readonly Cookie[], incoming: readonly Cookie[]): Cookie[] {
  const nowS = Date.now() / 1000;
  return mergeCookies(current, incoming).filter(
    (c) => c.expires === undefined || c.expires <= 0 || c.expires > nowS,
  );
}
