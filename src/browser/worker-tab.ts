/**
 * The worker's own tab on gemini.google.com/app. It is marked twice (a URL fragment and
 * `window.name`) so it is found again after a reconnect; the person's tabs are never touched.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Logger } from '../logging.ts';
import type { Connection } from './cdp-connection.ts';
import { inspectTab, type TabVerdict } from './login-state.ts';
import { withTimeout } from './with-timeout.ts';

/** Where the worker's tab lives. */
export const APP_URL = 'https://gemini.google.com/app';

/** Default marker: the fragment and window.name of the worker's tab. */
export const DEFAULT_TAB_MARKER = 'gemini-kasm-worker';

/** The tab's URL: the app plus the marker fragment. */
export function workerTabUrl(marker: string): string {
  return `${APP_URL}#${marker}`;
}

/** Finds the worker's tab among the context's pages, or null. Reads only gemini.google.com tabs. */
export async function findWorkerTab(
  context: BrowserContext,
  marker: string,
  timeoutMs: number,
): Promise<Page | null> {
  const pages = context.pages().filter((p) => !p.isClosed());
  const byUrl = pages.find((p) => p.url().endsWith(`#${marker}`));
  if (byUrl) {
    return byUrl;
  }
  // The app may drop the fragment when it rewrites its URL; window.name survives that.
  for (const page of pages.filter((p) => hostOf(p.url()) === 'gemini.google.com')) {
    const name = await withTimeout(
      page.evaluate(() => (globalThis as { name?: string }).name ?? ''),
      timeoutMs,
      () => new Error('reading a tab name timed out'),
    ).catch(() => '');
    if (name === marker) {
      return page;
    }
  }
  return null;
}

/**
 * Opens the worker's tab in a window of its own, in the background, and waits for it to load.
 * The person keeps the tab they are on; and unlike a background tab, a window of its own is
 * still painted in headed Chrome, so screenshots of it work.
 */
export async function openWorkerTab(
  browser: Browser,
  context: BrowserContext,
  marker: string,
  timeoutMs: number,
): Promise<Page> {
  const before = new Set(context.pages());
  const appeared = context.waitForEvent('page', {
    predicate: (p) => !before.has(p),
    timeout: timeoutMs,
  });
  const cdp = await browser.newBrowserCDPSession();
  try {
    await withTimeout(
      cdp.send('Target.createTarget', {
        url: workerTabUrl(marker),
        background: true,
        newWindow: true,
      }),
      timeoutMs,
      () => new Error('opening the worker tab timed out'),
    );
  } catch (err) {
    appeared.catch(() => undefined);
    throw err;
  } finally {
    cdp.detach().catch(() => undefined);
  }
  const page = await appeared;
  await page.waitForLoadState('load', { timeout: timeoutMs }).catch(() => undefined);
  await markTab(page, marker, timeoutMs);
  return page;
}

/** Reloads the tab and waits for `load`; the tab keeps its marker. */
export async function reloadWorkerTab(
  page: Page,
  marker: string,
  timeoutMs: number,
): Promise<void> {
  if (hostOf(page.url()) === 'gemini.google.com') {
    await page.reload({ waitUntil: 'load', timeout: timeoutMs });
  } else {
    // The tab wandered off (a sign-in flow, an error page): bring it back to the app.
    await page.goto(workerTabUrl(marker), { waitUntil: 'load', timeout: timeoutMs });
  }
  await markTab(page, marker, timeoutMs);
}

async function markTab(page: Page, marker: string, timeoutMs: number): Promise<void> {
  await withTimeout(
    page.evaluate((m) => {
      (globalThis as { name?: string }).name = m;
    }, marker),
    timeoutMs,
    () => new Error('marking the worker tab timed out'),
  ).catch(() => undefined);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** Knobs of a WorkerTab. */
export interface WorkerTabOptions {
  readonly marker: string;
  readonly operationTimeoutMs: number;
  readonly navigationTimeoutMs: number;
  readonly logger: Logger;
}

/** The worker's handle on its tab across reconnects: found again, or opened once. */
export class WorkerTab {
  private page: Page | null = null;
  private opening: Promise<Page> | null = null;
  /** When the tab last loaded (opened or reloaded), ms epoch; 0 before. */
  loadedAt = 0;

  constructor(private readonly o: WorkerTabOptions) {}

  /** Whether a live tab is held. */
  get isOpen(): boolean {
    return this.page !== null && !this.page.isClosed();
  }

  /** The tab on this connection: the held one, one found by its marker, or a new one. */
  async ensure(conn: Connection): Promise<Page> {
    if (this.page && !this.page.isClosed()) {
      return this.page;
    }
    this.opening ??= this.findOrOpen(conn).finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  /** Reloads the tab (or brings it back to the app) and waits for `load`. */
  async reload(conn: Connection): Promise<void> {
    const page = await this.ensure(conn);
    await reloadWorkerTab(page, this.o.marker, this.o.navigationTimeoutMs);
    this.loadedAt = Date.now();
  }

  /** What the tab shows now; `other` when there is no tab or it cannot be read. */
  async inspect(): Promise<TabVerdict> {
    const page = this.page;
    if (!page || page.isClosed()) {
      return 'other';
    }
    return inspectTab(page, this.o.operationTimeoutMs).catch(() => 'other' as const);
  }

  /** A PNG of the tab, bounded in time. */
  async screenshot(conn: Connection): Promise<Buffer> {
    const page = await this.ensure(conn);
    const timeoutMs = this.o.operationTimeoutMs * 2;
    return withTimeout(captureTab(page), timeoutMs, () => new Error('screenshot timed out'));
  }

  /** Drops the reference (after a disconnect). The tab itself stays open in Chrome. */
  forget(): void {
    this.page = null;
  }

  private async findOrOpen(conn: Connection): Promise<Page> {
    const { marker, operationTimeoutMs, navigationTimeoutMs } = this.o;
    let page = await findWorkerTab(conn.context, marker, operationTimeoutMs);
    if (!page) {
      page = await openWorkerTab(conn.browser, conn.context, marker, navigationTimeoutMs);
      this.loadedAt = Date.now();
      this.o.logger.info('opened the worker tab');
    }
    const held = page;
    held.on('close', () => {
      if (this.page === held) {
        this.page = null;
      }
    });
    if (!conn.browser.isConnected()) {
      throw new Error('Chrome disconnected while the worker tab was opened');
    }
    this.page = held;
    return held;
  }
}

/**
 * The tab's pixels straight from CDP. Playwright's page.screenshot first waits for web fonts,
 * which in a fresh or busy Chrome can outlast any sane bound; the operator wants the picture.
 */
async function captureTab(page: Page): Promise<Buffer> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' });
    return Buffer.from(data, 'base64');
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
