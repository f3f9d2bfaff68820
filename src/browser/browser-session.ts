/**
 * The worker's attachment to the person's Chrome over CDP: connects (always with a timeout),
 * keeps its own tab on gemini.google.com/app, reconnects after Chrome restarts, keeps the
 * session warm by reloading that tab, and tracks the login state.
 */
import type { Page } from 'playwright-core';
import { childLogger, type Logger } from '../logging.ts';
import type { Cookie } from '../gemini/index.ts';
import { browserUnreachableError } from './browser-errors.ts';
import { CdpConnection, describeError, type Connection } from './cdp-connection.ts';
import {
  GOOGLE_COOKIE_URLS,
  hasSessionCookie,
  readCookies,
  writeCookies,
} from './google-cookies.ts';
import { KeepAlive } from './keep-alive.ts';
import { decideLoginState, type LoginState } from './login-state.ts';
import {
  SESSION_DEFAULTS,
  type BrowserSessionOptions,
  type BrowserSnapshot,
  type LoginStateListener,
} from './browser-session-options.ts';
import { TabLease } from './tab-lease.ts';
import { WorkerTab } from './worker-tab.ts';

/** The worker's tab, held for the page transport: no reload until `release()`. */
export interface HeldTab {
  readonly page: Page;
  readonly release: () => void;
}

/** One worker's hold on one Chrome. `close()` drops the socket; Chrome keeps running. */
export class BrowserSession {
  private readonly log: Logger;
  private readonly o: Required<BrowserSessionOptions>;
  private readonly link: CdpConnection;
  private readonly tab: WorkerTab;
  private readonly lease: TabLease;
  private state: LoginState = 'unknown';
  private closed = false;
  private tabReload: Promise<LoginState> | null = null;
  private readonly keepAlive: KeepAlive;
  private readonly listeners = new Set<LoginStateListener>();
  private lastLoginCheckAt = 0;
  private lastError: string | null = null;

  constructor(options: BrowserSessionOptions) {
    this.log = childLogger(options.logger, 'browser');
    this.o = { ...SESSION_DEFAULTS, ...options };
    this.tab = new WorkerTab({
      marker: this.o.tabMarker,
      operationTimeoutMs: this.o.operationTimeoutMs,
      navigationTimeoutMs: this.o.navigationTimeoutMs,
      logger: this.log,
    });
    this.lease = new TabLease(this.o.tabHoldMaxWaitMs);
    this.keepAlive = new KeepAlive({
      intervalMs: this.o.keepAliveIntervalMs,
      recheckMs: this.o.loginRecheckMs,
      random: this.o.random,
      logger: this.log,
      isActive: () => !this.closed && this.link.current !== null,
      isLoggedIn: () => this.state === 'logged_in',
      keepAlive: () => this.refresh(),
      recheck: () => this.recheckLogin(),
    });
    this.link = new CdpConnection({
      cdpUrl: this.o.cdpUrl,
      connectTimeoutMs: this.o.connectTimeoutMs,
      pollTimeoutMs: this.o.operationTimeoutMs,
      backoff: this.o.reconnectBackoff,
      logger: this.log,
      onConnect: () => this.afterConnect(),
      onDisconnect: () => this.afterDisconnect(),
    });
  }

  /** The current login state; `unknown` until the first check. */
  get loginState(): LoginState {
    return this.state;
  }

  /** Whether a CDP connection is up right now. */
  get connected(): boolean {
    return this.link.current !== null;
  }

  /**
   * Connects and checks the login state. If Chrome is away it does not throw: the state becomes
   * browser_unreachable and reconnecting goes on in the background.
   */
  async connect(): Promise<LoginState> {
    if (this.closed) {
      throw new Error('BrowserSession is closed');
    }
    if (!(await this.link.connect())) {
      this.setState('browser_unreachable');
    }
    return this.state;
  }

  /** Resolves true once connected (and the login state checked), false after `timeoutMs`. */
  async whenConnected(timeoutMs: number): Promise<boolean> {
    return this.link.whenConnected(timeoutMs);
  }

  /** Live cookies for `urls`, bounded in time; ServiceUnavailableError while Chrome is away. */
  async cookies(urls: readonly string[] = GOOGLE_COOKIE_URLS): Promise<Cookie[]> {
    const conn = this.requireConnection();
    try {
      const cookies = await readCookies(conn.context, urls, this.o.operationTimeoutMs);
      this.noticeSignOut(urls, cookies);
      return cookies;
    } catch (err) {
      throw this.unreachable('reading cookies failed', err);
    }
  }

  /** Writes cookies into the person's profile, bounded in time. */
  async addCookies(cookies: readonly Cookie[]): Promise<void> {
    const conn = this.requireConnection();
    try {
      await writeCookies(conn.context, cookies, this.o.operationTimeoutMs);
    } catch (err) {
      throw this.unreachable('writing cookies failed', err);
    }
  }

  /** Reloads the worker's tab (opening it if needed), then re-evaluates the login state. */
  async refresh(): Promise<LoginState> {
    this.requireConnection();
    this.tabReload ??= this.reloadAndCheck().finally(() => {
      this.tabReload = null;
    });
    return this.tabReload;
  }

  /** The worker's tab for the page transport, held (no reload) until `release()`. */
  async holdTab(): Promise<HeldTab> {
    const hold = await this.lease.hold();
    try {
      return { page: await this.tab.ensure(this.requireConnection()), release: hold.release };
    } catch (err) {
      hold.release();
      throw this.unreachable('opening the worker tab failed', err);
    }
  }

  /** A PNG of the worker's tab. */
  async screenshot(): Promise<Buffer> {
    const conn = this.requireConnection();
    try {
      return await this.tab.screenshot(conn);
    } catch (err) {
      throw this.unreachable('taking a screenshot failed', err);
    }
  }

  /** Subscribes to login-state changes; returns the unsubscribe function. */
  onLoginStateChange(listener: LoginStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The browser's part of /health. */
  snapshot(): BrowserSnapshot {
    const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);
    const conn = this.link.current;
    return {
      loginState: this.state,
      connected: conn !== null,
      browserVersion: conn?.version ?? null,
      tabOpen: this.tab.isOpen,
      reconnects: this.link.reconnects,
      connectedAt: iso(this.link.connectedAt),
      disconnectedAt: iso(this.link.disconnectedAt),
      lastKeepAliveAt: iso(this.keepAlive.lastAt),
      nextKeepAliveAt: this.keepAlive.scheduled ? iso(this.keepAlive.nextAt) : null,
      lastLoginCheckAt: iso(this.lastLoginCheckAt),
      lastError: this.lastError ?? this.link.lastError,
    };
  }

  /** Stops timers and drops the CDP socket. Idempotent; never closes Chrome or the tab. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    this.keepAlive.stop();
    this.tab.forget();
    this.listeners.clear();
    await this.link.close();
  }

  private async afterConnect(): Promise<void> {
    try {
      await this.tab.ensure(this.requireConnection());
      await this.checkLoginNow();
    } catch (err) {
      this.lastError = describeError(err);
      this.log.warn('could not check the worker tab after connecting', { error: this.lastError });
      if (this.link.current && this.state === 'browser_unreachable') {
        this.setState('unknown');
      }
    }
    this.keepAlive.schedule();
  }

  private afterDisconnect(): void {
    this.tab.forget();
    this.keepAlive.stop();
    this.setState('browser_unreachable');
  }

  /** Cheap: cookies every time, a reload only every loginReloadMinMs. */
  private async recheckLogin(): Promise<void> {
    if (!hasSessionCookie(await this.cookies())) {
      return; // cookies() has set login_required
    }
    if (Date.now() - this.tab.loadedAt >= this.o.loginReloadMinMs) {
      await this.refresh();
    } else {
      await this.checkLoginNow();
    }
  }

  private async reloadAndCheck(): Promise<LoginState> {
    try {
      const conn = this.requireConnection();
      await this.lease.exclusive(() => this.tab.reload(conn));
    } catch (err) {
      if (!this.link.current || !this.tab.isOpen) {
        throw this.unreachable('reloading the worker tab failed', err);
      }
      // A slow or failed load still leaves a page to judge; the check below decides.
      this.log.warn('reloading the worker tab failed', { error: describeError(err) });
    }
    return this.checkLoginNow();
  }

  private async checkLoginNow(): Promise<LoginState> {
    const cookies = await this.cookies();
    const verdict = await this.tab.inspect();
    // "Cannot tell" (an error page): keep logged_in if we were, else unknown.
    const fallback: LoginState = this.state === 'logged_in' ? 'logged_in' : 'unknown';
    this.lastLoginCheckAt = Date.now();
    this.setState(decideLoginState(verdict, cookies) ?? fallback);
    return this.state;
  }

  /** A jar without a session cookie is signed out, whatever the tab last showed. */
  private noticeSignOut(urls: readonly string[], cookies: readonly Cookie[]): void {
    if (urls.includes(GOOGLE_COOKIE_URLS[0] ?? '') && !hasSessionCookie(cookies)) {
      this.lastLoginCheckAt = Date.now();
      this.setState('login_required');
    }
  }

  private requireConnection(): Connection {
    const conn = this.link.current;
    if (!conn) {
      throw browserUnreachableError(
        this.closed ? 'the session is closed' : 'Chrome is not connected',
      );
    }
    return conn;
  }

  private unreachable(detail: string, err: unknown): Error {
    this.lastError = `${detail}: ${describeError(err)}`;
    const gone = this.link.current ? detail : `${detail}; Chrome disconnected`;
    return browserUnreachableError(gone, err);
  }

  private setState(next: LoginState): void {
    const previous = this.state;
    if (next === previous) {
      return;
    }
    this.state = next;
    this.log.info('login state changed', { loginState: next, previous });
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.log.error('a login-state listener threw', { error: describeError(err) });
      }
    }
    if (next === 'logged_in' || previous === 'logged_in') {
      this.keepAlive.schedule();
    }
  }
}
