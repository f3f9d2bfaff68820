/**
 * The LiveCookieSource test bed: a FakeBrowser standing in for BrowserSession, a temporary
 * cookie_cache.json, and what the source logged. A test file calls useLiveCookieHarness() once;
 * the exported bindings are live and are replaced before each test.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import {
  browserUnreachableError,
  COOKIE_CACHE_FILE,
  LiveCookieSource,
  mergeCookies,
  readCookieCache,
  type LoginState,
  type LoginStateListener,
} from '../../../../src/browser/index.ts';
import type { CookieBrowser } from '../../../../src/browser/live-cookie-source.ts';
import type { Cookie } from '../../../../src/gemini/index.ts';
import { cookie } from './cookies.ts';
import { capturedLogger, type CapturedLogger } from '../../support/captured-logger.ts';

/** Stands in for BrowserSession: a jar, a connection flag and a login state. */
export class FakeBrowser implements CookieBrowser {
  connected = true;
  loginState: LoginState = 'logged_in';
  jar: Cookie[] = [
    cookie('__Secure-1PSID', 'g.a000-live-psid'),
    cookie('__Secure-1PSIDTS', 'sidts-live-1'),
  ];
  reads = 0;
  refreshes = 0;
  added: Cookie[][] = [];
  failReads: Error | null = null;
  /** While set, addCookies waits for it (a slow CDP round trip). */
  addGate: Promise<void> | null = null;
  private readonly listeners = new Set<LoginStateListener>();

  async cookies(): Promise<Cookie[]> {
    this.reads += 1;
    await Promise.resolve();
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    if (this.failReads) {
      throw this.failReads;
    }
    return this.jar.map((x) => ({ ...x }));
  }

  async addCookies(cookies: readonly Cookie[]): Promise<void> {
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    this.added.push([...cookies]);
    await this.addGate;
    this.jar = mergeCookies(this.jar, cookies);
  }

  async refresh(): Promise<LoginState> {
    this.refreshes += 1;
    if (!this.connected) {
      throw browserUnreachableError('Chrome is not connected');
    }
    return this.loginState;
  }

  async whenConnected(): Promise<boolean> {
    return this.connected;
  }

  onLoginStateChange(listener: LoginStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setState(next: LoginState): void {
    const previous = this.loginState;
    this.loginState = next;
    this.listeners.forEach((l) => l(next, previous));
  }
}

let dir: string;
let source: LiveCookieSource | null;
let log: CapturedLogger;
/** This test's cookie_cache.json (absent until written). */
export let file: string;
/** This test's browser. */
export let browser: FakeBrowser;

/** Registers the hooks that give each test of the calling file a fresh browser and cache file. */
export function useLiveCookieHarness(): void {
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gk-live-cookies-'));
    file = path.join(dir, COOKIE_CACHE_FILE);
    browser = new FakeBrowser();
    source = null;
    log = capturedLogger();
  });

  afterEach(async () => {
    await source?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
}

/** The source over this test's browser and file, closed after the test. */
export async function open(cacheMs = 60_000, cacheWriteIntervalMs = 0): Promise<LiveCookieSource> {
  source = await LiveCookieSource.create({
    session: browser,
    cacheFile: file,
    cacheMs,
    logger: log.logger,
    reconnectWaitMs: 10,
    cacheWriteIntervalMs,
  });
  return source;
}

/** The lines (info and above) this test's source logged. */
export const logLines = (): string[] => log.lines();

/** `name=value` of every cookie in the saved file, sorted. */
export async function fileValues(): Promise<string[]> {
  return (await readCookieCache(file)).map((x) => `${x.name}=${x.value}`).sort();
}
