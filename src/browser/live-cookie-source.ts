/**
 * The account's cookies, read live from the person's Chrome over CDP behind a short cache.
 * While Chrome is away it serves the last good copy (cookie_cache.json, loaded at start), or
 * fails at once with a 503; it never hangs. Cookies Node receives are written back into Chrome.
 */
import { registerCookie, childLogger, type Logger } from '../logging.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Cookie, CookieSource } from '../gemini/index.ts';
import { browserUnreachableError, loginRequiredError } from './browser-errors.ts';
import type { BrowserSession } from './browser-session.ts';
import { describeError } from './cdp-connection.ts';
import { mergeCookies, readCookieCache, writeCookieCache } from './cookie-cache.ts';
import {
  cookieFingerprint,
  GOOGLE_COOKIE_URLS,
  hasSessionCookie,
  isGoogleCookie,
} from './google-cookies.ts';

/** The part of a BrowserSession the cookie source uses. */
export type CookieBrowser = Pick<
  BrowserSession,
  | 'connected'
  | 'loginState'
  | 'cookies'
  | 'addCookies'
  | 'refresh'
  | 'whenConnected'
  | 'onLoginStateChange'
>;

/** Knobs of a LiveCookieSource. */
export interface LiveCookieSourceOptions {
  readonly session: CookieBrowser;
  /** Path of cookie_cache.json. */
  readonly cacheFile: string;
  /** How long a live read is reused (config.cookieCacheMs). */
  readonly cacheMs: number;
  readonly logger: Logger;
  /** How long refresh() waits for Chrome to come back before it gives up. */
  readonly reconnectWaitMs?: number;
  readonly urls?: readonly string[];
}

/** Where the cookies last handed out came from; for /health. */
export interface CookieSourceSnapshot {
  readonly servedFrom: 'live' | 'cache' | 'none';
  readonly cachedCookies: number;
  readonly lastLiveReadAt: string | null;
  readonly cacheWrittenAt: string | null;
}

/** CookieSource over a BrowserSession, with cookie_cache.json as the fallback. */
export class LiveCookieSource implements CookieSource {
  private readonly log: Logger;
  private fresh: { cookies: Cookie[]; readAt: number } | null = null;
  private lastGood: Cookie[] = [];
  private savedFingerprint = '';
  private reading: Promise<Cookie[]> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private servedFrom: CookieSourceSnapshot['servedFrom'] = 'none';
  private cacheWrittenAt = 0;
  private readonly unsubscribe: () => void;

  private constructor(private readonly o: LiveCookieSourceOptions) {
    this.log = childLogger(o.logger, 'cookies');
    // New state, new jar: a sign-in or a reconnect must not be answered from the short cache.
    this.unsubscribe = o.session.onLoginStateChange(() => this.invalidate());
  }

  /** Builds the source and loads cookie_cache.json, so it can serve before Chrome answers. */
  static async create(options: LiveCookieSourceOptions): Promise<LiveCookieSource> {
    const source = new LiveCookieSource(options);
    source.lastGood = await readCookieCache(options.cacheFile);
    source.savedFingerprint = cookieFingerprint(source.lastGood);
    return source;
  }

  /** Live cookies (cached for cacheMs); the saved copy while Chrome is away; else a 503. */
  async getCookies(): Promise<Cookie[]> {
    if (this.fresh && Date.now() - this.fresh.readAt < this.o.cacheMs) {
      return [...this.fresh.cookies];
    }
    this.reading ??= this.readLive().finally(() => {
      this.reading = null;
    });
    return [...(await this.reading)];
  }

  /** Drops the short cache: the next getCookies reads Chrome again. */
  invalidate(): void {
    this.fresh = null;
  }

  /** Reloads the worker's tab, re-reads the cookies and the login state. */
  async refresh(): Promise<void> {
    this.invalidate();
    const { session } = this.o;
    if (!session.connected && !(await session.whenConnected(this.o.reconnectWaitMs ?? 5_000))) {
      throw browserUnreachableError('Chrome did not come back in time');
    }
    await session.refresh();
    this.invalidate();
    await this.getCookies();
  }

  /** Writes Google cookies Node received back into Chrome and into the saved copy. */
  async absorb(cookies: Cookie[]): Promise<void> {
    const google = cookies.filter(isGoogleCookie);
    if (google.length === 0) {
      return;
    }
    google.forEach(registerCookie);
    if (this.o.session.connected) {
      await this.o.session.addCookies(google).catch((err: unknown) => {
        this.log.warn('could not write cookies back into Chrome', {
          names: google.map((c) => c.name),
          error: describeError(err),
        });
      });
    }
    const nowS = Date.now() / 1000;
    const merged = mergeCookies(this.fresh?.cookies ?? this.lastGood, google).filter(
      (c) => c.expires === undefined || c.expires <= 0 || c.expires > nowS,
    );
    if (this.fresh) {
      this.fresh = { cookies: merged, readAt: this.fresh.readAt };
    }
    this.remember(merged);
  }

  /** The cookie side of /health. Holds no cookie values. */
  snapshot(): CookieSourceSnapshot {
    return {
      servedFrom: this.servedFrom,
      cachedCookies: this.lastGood.length,
      lastLiveReadAt: this.fresh ? new Date(this.fresh.readAt).toISOString() : null,
      cacheWrittenAt: this.cacheWrittenAt ? new Date(this.cacheWrittenAt).toISOString() : null,
    };
  }

  /** Resolves once cookie_cache.json holds the newest saved jar. */
  async flush(): Promise<void> {
    await this.writing;
  }

  /** Unsubscribes and waits for a pending cache write. Idempotent. */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.flush();
  }

  private async readLive(): Promise<Cookie[]> {
    const { session } = this.o;
    if (!session.connected) {
      return this.fromSavedCopy();
    }
    let cookies: Cookie[];
    try {
      cookies = await session.cookies(this.o.urls ?? GOOGLE_COOKIE_URLS);
    } catch (err) {
      if (err instanceof ServiceUnavailableError) {
        return this.fromSavedCopy();
      }
      throw err;
    }
    if (!hasSessionCookie(cookies) || session.loginState === 'login_required') {
      throw loginRequiredError();
    }
    this.fresh = { cookies, readAt: Date.now() };
    this.servedFrom = 'live';
    this.remember(cookies);
    return cookies;
  }

  private fromSavedCopy(): Cookie[] {
    if (!hasSessionCookie(this.lastGood)) {
      this.servedFrom = 'none';
      throw browserUnreachableError('Chrome is not connected and no saved cookies exist');
    }
    if (this.servedFrom !== 'cache') {
      this.log.warn('Chrome is away; serving the saved cookies', { count: this.lastGood.length });
    }
    this.servedFrom = 'cache';
    return this.lastGood;
  }

  /** Keeps a signed-in jar as the last good copy and saves it when it changed. */
  private remember(cookies: Cookie[]): void {
    if (!hasSessionCookie(cookies)) {
      return;
    }
    this.lastGood = cookies;
    const fingerprint = cookieFingerprint(cookies);
    if (fingerprint === this.savedFingerprint) {
      return;
    }
    this.savedFingerprint = fingerprint;
    // Writes go one after another, so the newest jar is the one left on disk.
    this.writing = this.writing
      .then(() => writeCookieCache(this.o.cacheFile, cookies))
      .then(() => {
        this.cacheWrittenAt = Date.now();
        this.log.debug('saved cookie_cache.json', { count: cookies.length });
      })
      .catch((err: unknown) => {
        this.log.warn('could not save cookie_cache.json', { error: describeError(err) });
      });
  }
}
