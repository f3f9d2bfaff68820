/**
 * The account's cookies, read live from the person's Chrome over CDP behind a short cache.
 * While Chrome is away it serves the last good copy (cookie_cache.json, loaded at start), or
 * fails at once with a 503; it never hangs. Cookies Node receives are written back into Chrome
 * and into cookie_cache.json in the background (coalesced), never on a request's latency path.
 */
import { registerCookie, childLogger, type Logger } from '../logging.ts';
import { ServiceUnavailableError } from '../errors.ts';
import type { Cookie, CookieSource } from '../gemini/index.ts';
import { browserUnreachableError, loginRequiredError } from './browser-errors.ts';
import type { BrowserSession } from './browser-session.ts';
import { CoalescedWriter } from './coalesced-writer.ts';
import {
  cookieKey,
  mergeCookies,
  readCookieCache,
  withReceived,
  writeCookieCache,
} from './cookie-cache.ts';
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
  /** Least time between two writes of cookie_cache.json (default 1 s). */
  readonly cacheWriteIntervalMs?: number;
}

/** Cookies received from Google and not yet (known to be) in Chrome, numbered in arrival order. */
interface ReceivedBatch {
  readonly cookies: Cookie[];
  readonly seq: number;
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
  private servedFrom: CookieSourceSnapshot['servedFrom'] = 'none';
  private cacheWrittenAt = 0;
  private readonly unsubscribe: () => void;
  /** Received cookies by scope, with the batch they came in; kept until Chrome has them. */
  private readonly notInChrome = new Map<string, { cookie: Cookie; seq: number }>();
  private receivedSeq = 0;
  /** Every batch up to this one was written to Chrome (or given up on). */
  private chromeSettledSeq = 0;
  private readonly toChrome: CoalescedWriter<ReceivedBatch>;
  private readonly toFile: CoalescedWriter<Cookie[]>;

  private constructor(private readonly o: LiveCookieSourceOptions) {
    this.log = childLogger(o.logger, 'cookies');
    this.toChrome = new CoalescedWriter({
      what: 'writing cookies back into Chrome',
      logger: this.log,
      write: (batch) => this.writeToChrome(batch.cookies),
      fold: (older, newer) => ({
        cookies: mergeCookies(older.cookies, newer.cookies),
        seq: newer.seq,
      }),
      onSettled: (batch) => {
        this.chromeSettledSeq = batch.seq;
      },
    });
    this.toFile = new CoalescedWriter({
      what: 'saving cookie_cache.json',
      logger: this.log,
      minIntervalMs: o.cacheWriteIntervalMs ?? 1000,
      write: (cookies) => writeCookieCache(o.cacheFile, cookies),
      onWritten: (cookies) => {
        this.cacheWrittenAt = Date.now();
        this.log.debug('saved cookie_cache.json', { count: cookies.length });
      },
    });
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

  /**
   * Takes Google cookies Node received: the served jar has them when this resolves (at once);
   * Chrome and cookie_cache.json get them in the background, coalesced (see flush()).
   */
  async absorb(cookies: Cookie[]): Promise<void> {
    const google = cookies.filter(isGoogleCookie);
    if (google.length === 0) {
      return;
    }
    google.forEach(registerCookie);
    this.receivedSeq += 1;
    for (const cookie of google) {
      this.notInChrome.set(cookieKey(cookie), { cookie, seq: this.receivedSeq });
    }
    this.toChrome.schedule({ cookies: google, seq: this.receivedSeq });
    const merged = withReceived(this.fresh?.cookies ?? this.lastGood, google);
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

  /** Resolves once Chrome and cookie_cache.json hold everything received and read so far. */
  async flush(): Promise<void> {
    await Promise.all([this.toChrome.flush(), this.toFile.flush()]);
  }

  /** Unsubscribes and writes what is pending. Idempotent. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([this.toChrome.close(), this.toFile.close()]);
  }

  private async readLive(): Promise<Cookie[]> {
    const { session } = this.o;
    if (!session.connected) {
      return this.fromSavedCopy();
    }
    const chromeHad = this.chromeSettledSeq;
    let cookies: Cookie[];
    try {
      cookies = this.withUnwritten(
        await session.cookies(this.o.urls ?? GOOGLE_COOKIE_URLS),
        chromeHad,
      );
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

  /**
   * A live read with the received cookies Chrome may not have had when the read began laid over
   * it, so a read racing a background write never hands out an older value.
   */
  private withUnwritten(live: Cookie[], chromeHad: number): Cookie[] {
    const later: Cookie[] = [];
    for (const [key, entry] of this.notInChrome) {
      if (entry.seq > chromeHad) {
        later.push(entry.cookie);
      } else if (entry.seq <= this.chromeSettledSeq) {
        this.notInChrome.delete(key);
      }
    }
    return later.length === 0 ? live : withReceived(live, later);
  }

  /** Writes received cookies into Chrome; while Chrome is away they live on in the saved copy. */
  private async writeToChrome(cookies: Cookie[]): Promise<void> {
    if (this.o.session.connected) {
      await this.o.session.addCookies(cookies);
    }
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
    this.toFile.schedule(cookies);
  }
}
