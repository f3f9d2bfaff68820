/**
 * The API keys a process accepts, with their roles: user keys (API_KEYS) and admin keys
 * (ADMIN_API_KEYS), from the environment and optional key files. Only sha256 digests are held;
 * a lookup compares against every digest in constant time. The files are re-read on SIGHUP and
 * when their mtime changes, so keys rotate without a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';

/** What a key may do: `admin` reaches the admin routes and every user route. */
export type KeyRole = 'user' | 'admin';

/** Who sent a request: the key's id (never the key) and its role. */
export interface Caller {
  readonly keyId: string;
  readonly role: KeyRole;
}

/** The owner of everything made while the service runs with ALLOW_NO_AUTH=1 and no keys. */
export const ANONYMOUS = 'anonymous';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** A key's id for logs and ownership: the first 16 hex characters of its sha256. */
export function keyIdOf(key: string): string {
  return digest(key).toString('hex').slice(0, 16);
}

/** Where the keys come from (config's slice). */
export interface KeySources {
  readonly apiKeys: readonly string[];
  readonly adminApiKeys: readonly string[];
  readonly apiKeysFile: string | null;
  readonly adminApiKeysFile: string | null;
  readonly allowNoAuth: boolean;
}

interface Entry {
  readonly digest: Buffer;
  readonly caller: Caller;
}

/** Keys in a file: one a line (commas work too); blank lines and `#` comments are skipped. */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((k) => k.trim())
    .filter(Boolean);
}

function readKeyFile(file: string | null): string[] {
  if (!file) {
    return [];
  }
  // A file that cannot be read counts as empty: failing closed beats serving with stale keys.
  try {
    return parseKeyFile(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

/** The accepted keys; identify() answers who a presented key belongs to. */
export class KeyRing {
  private entries: Entry[] = [];
  private readonly stops: (() => void)[] = [];
  private loadedSignature = '';

  /** `onKey` sees every key loaded (the logger registers it as a secret). */
  constructor(
    private readonly sources: KeySources,
    private readonly onKey: (key: string) => void = () => {},
  ) {
    this.reload();
  }

  /** Re-reads the key files; returns how many keys of each role are now accepted. */
  reload(): { user: number; admin: number } {
    // Taken before reading: a change during the read shows as a difference next time.
    this.loadedSignature = this.fileSignature();
    const admin = [...this.sources.adminApiKeys, ...readKeyFile(this.sources.adminApiKeysFile)];
    const adminSet = new Set(admin);
    // A key in both lists is an admin key.
    const user = [...this.sources.apiKeys, ...readKeyFile(this.sources.apiKeysFile)].filter(
      (k) => !adminSet.has(k),
    );
    const entry = (key: string, role: KeyRole): Entry => {
      this.onKey(key);
      return { digest: digest(key), caller: { keyId: keyIdOf(key), role } };
    };
    this.entries = [
      ...[...adminSet].map((k) => entry(k, 'admin')),
      ...[...new Set(user)].map((k) => entry(k, 'user')),
    ];
    return { user: new Set(user).size, admin: adminSet.size };
  }

  /** How many keys are accepted now. */
  get size(): number {
    return this.entries.length;
  }

  /** True when no key is configured and ALLOW_NO_AUTH=1: every caller is anonymous and admin. */
  get isOpen(): boolean {
    return this.entries.length === 0 && this.sources.allowNoAuth;
  }

  /** The caller a key belongs to, or null. Compares with every key, whatever matches. */
  identify(key: string | null): Caller | null {
    if (this.isOpen) {
      return { keyId: ANONYMOUS, role: 'admin' };
    }
    const given = digest(key ?? '');
    let found: Caller | null = null;
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, given) && found === null) {
        found = e.caller;
      }
    }
    return key ? found : null;
  }

  /**
   * Reloads on SIGHUP and whenever a key file changes (its mtime or size, polled every `pollMs`
   * against what the last reload read). Returns a function that stops watching.
   */
  watch(onReload: (counts: { user: number; admin: number }) => void, pollMs = 2000): () => void {
    const reload = () => onReload(this.reload());
    process.on('SIGHUP', reload);
    this.stops.push(() => process.off('SIGHUP', reload));
    if (this.sources.apiKeysFile || this.sources.adminApiKeysFile) {
      const timer = setInterval(() => {
        if (this.fileSignature() !== this.loadedSignature) {
          reload();
        }
      }, pollMs);
      timer.unref();
      this.stops.push(() => clearInterval(timer));
    }
    return () => this.stops.splice(0).forEach((stop) => stop());
  }

  /** The key files' mtimes and sizes, as one string ('' for a missing file). */
  private fileSignature(): string {
    return [this.sources.apiKeysFile, this.sources.adminApiKeysFile]
      .map((file) => {
        if (!file) {
          return '';
        }
        try {
          const st = fs.statSync(file);
          return `${st.mtimeMs}:${st.size}`;
        } catch {
          return 'missing';
        }
      })
      .join('|');
  }
}

/** Thrown at start when no key is configured and ALLOW_NO_AUTH is not set. */
export class NoApiKeyError extends Error {
  constructor() {
    super(
      'No API key is configured: set API_KEYS and/or ADMIN_API_KEYS (or API_KEYS_FILE, ' +
        'ADMIN_API_KEYS_FILE), or set ALLOW_NO_AUTH=1 to run open on a trusted network.',
    );
    this.name = 'NoApiKeyError';
  }
}

/**
 * Refuses to start without a key unless ALLOW_NO_AUTH=1; then warns (at every start).
 * `warn` is the logger's.
 */
export function checkAuthConfigured(ring: KeyRing, warn: (message: string) => void): void {
  if (ring.size > 0) {
    return;
  }
  if (!ring.isOpen) {
    throw new NoApiKeyError();
  }
  warn(
    'ALLOW_NO_AUTH=1 and no API key: anyone who can reach this port is an admin ' +
      '(screenshots of the signed-in desktop, every conversation)',
  );
}
