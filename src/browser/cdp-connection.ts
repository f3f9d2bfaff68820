/**
 * The CDP link to Chrome and nothing else: connect with a timeout, notice the disconnect, poll
 * `/json/version` with backoff and connect again. Kasm relaunches Chrome about a second after
 * it goes away, so the first retries come fast.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import type { Logger } from '../logging.ts';
import { backoffDelayMs, type BackoffOptions } from './backoff.ts';
import { fetchCdpVersion } from './cdp-endpoint.ts';

/** A live connection: the browser and its default context (the person's profile). */
export interface Connection {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly version: string;
}

/** Knobs of a CdpConnection. */
export interface CdpConnectionOptions {
  readonly cdpUrl: string;
  readonly connectTimeoutMs: number;
  /** Bound on one `/json/version` poll. */
  readonly pollTimeoutMs: number;
  readonly backoff: BackoffOptions;
  readonly logger: Logger;
  /** Runs after each (re)connect, before `whenConnected` waiters are released. */
  readonly onConnect: (conn: Connection) => Promise<void>;
  /** Runs when the link drops (not on close()). */
  readonly onDisconnect: () => void;
}

// Log a still-down Chrome at warn level about once a minute at the backoff cap.
const WARN_EVERY_ATTEMPTS = 30;

/** Holds one CDP connection at a time and restores it after Chrome restarts. */
export class CdpConnection {
  private conn: Connection | null = null;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<() => void>();
  /** Successful reconnects since start. */
  reconnects = 0;
  connectedAt = 0;
  disconnectedAt = 0;
  lastError: string | null = null;

  constructor(private readonly o: CdpConnectionOptions) {}

  /** The live connection, or null while Chrome is away. */
  get current(): Connection | null {
    return this.conn;
  }

  /** Tries once; if Chrome is away, keeps trying in the background. Never throws. */
  async connect(): Promise<boolean> {
    if (!this.conn && !this.closed) {
      await this.attempt();
      if (!this.conn) {
        this.scheduleReconnect(1);
      }
    }
    return this.conn !== null;
  }

  /** Resolves true once connected, false after `timeoutMs`. */
  async whenConnected(timeoutMs: number): Promise<boolean> {
    if (this.conn) {
      return true;
    }
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(onConnect);
        resolve(ok);
      };
      const onConnect = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(onConnect);
    });
  }

  /** Stops reconnecting and drops the socket; Chrome keeps running. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.reconnectTimer) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = null;
    }
    const conn = this.conn;
    this.conn = null;
    await this.connecting?.catch(() => undefined);
    // On a CDP-attached browser, close() only closes the WebSocket.
    await conn?.browser.close().catch(() => undefined);
  }

  private async attempt(): Promise<void> {
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    const conn = await this.open();
    if (!conn) {
      return;
    }
    this.conn = conn;
    if (this.connectedAt > 0) {
      this.reconnects += 1;
    }
    this.connectedAt = Date.now();
    this.lastError = null;
    this.o.logger.info('connected to Chrome over CDP', { browser: conn.version });
    await this.o.onConnect(conn).catch((err: unknown) => {
      this.o.logger.warn('setting up after connecting failed', { error: describeError(err) });
    });
    if (this.conn === conn) {
      this.waiters.forEach((w) => w());
    }
  }

  /** Polls /json/version, then connects with a timeout; null (and lastError) on failure. */
  private async open(): Promise<Connection | null> {
    let browser: Browser | null = null;
    try {
      const version = await fetchCdpVersion(this.o.cdpUrl, this.o.pollTimeoutMs);
      // Loaded on first use: playwright-core alone costs ~80 MB of RSS, needless without a browser.
      const { chromium } = await import('playwright-core');
      browser = await chromium.connectOverCDP(version.webSocketDebuggerUrl, {
        timeout: this.o.connectTimeoutMs,
        // The person's own browser: leave downloads, fonts, focus and media emulation alone.
        noDefaults: true,
      });
      const context = browser.contexts()[0];
      if (!context) {
        throw new Error('Chrome has no default context');
      }
      const conn: Connection = { browser, context, version: version.browser };
      browser.on('disconnected', () => this.onDisconnected(conn));
      if (this.closed || !browser.isConnected()) {
        await browser.close();
        return null;
      }
      return conn;
    } catch (err) {
      this.lastError = describeError(err);
      await browser?.close().catch(() => undefined);
      return null;
    }
  }

  private onDisconnected(conn: Connection): void {
    if (this.conn !== conn) {
      return;
    }
    this.conn = null;
    this.disconnectedAt = Date.now();
    this.o.logger.warn('Chrome disconnected; reconnecting');
    this.o.onDisconnect();
    this.scheduleReconnect(0);
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closed || this.reconnectTimer) {
      return;
    }
    this.reconnectTimer = setTimeout(
      () => {
        this.reconnectTimer = null;
        void this.reconnect(attempt);
      },
      backoffDelayMs(attempt, this.o.backoff),
    );
    this.reconnectTimer.unref();
  }

  private async reconnect(attempt: number): Promise<void> {
    await this.attempt();
    if (this.conn) {
      this.o.logger.info('reconnected to Chrome', { attempts: attempt + 1 });
    } else if (!this.closed) {
      if (attempt % WARN_EVERY_ATTEMPTS === 1) {
        this.o.logger.warn('Chrome is still unreachable', {
          attempts: attempt + 1,
          error: this.lastError,
        });
      }
      this.scheduleReconnect(attempt + 1);
    }
  }
}

/** The first line of an error's message (Playwright appends a multi-line call log). */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
