/**
 * Issue 3's figures: what a live cookie read over CDP costs next to a cached one, and how long
 * the session takes to come back after Chromium restarts.
 */
import path from 'node:path';
import { BrowserSession, LiveCookieSource } from '../src/browser/index.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { createLogger } from '../src/logging.ts';
import { personSignIn, waitForChromiumGone } from '../e2e/support/person.ts';
import { startChromium, tempDir } from '../e2e/support/services.ts';
import { printLine, printRow, since, summarize } from './stats.ts';

async function readTimes(source: LiveCookieSource, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t = performance.now();
    await source.getCookies();
    out.push(since(t));
  }
  return out;
}

export async function benchBrowser(emulator: BenchEmulator): Promise<void> {
  const chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
  const logger = createLogger({ silent: true });
  const session = new BrowserSession({ cdpUrl: chrome.url, keepAliveIntervalMs: 600_000, logger });
  const cacheFile = path.join(tempDir('bench-browser'), 'cookie_cache.json');
  try {
    await personSignIn(chrome.url, 'bench-browser@example.com');
    await session.connect();
    const live = await LiveCookieSource.create({ session, cacheFile, cacheMs: 0, logger });
    const cached = await LiveCookieSource.create({ session, cacheFile, cacheMs: 60_000, logger });
    await readTimes(live, 20);
    const l = summarize(await readTimes(live, 200));
    const c = summarize(await readTimes(cached, 200));
    printLine('\nCookie reads (Storage.getCookies over CDP vs the short in-process cache)');
    printRow('live read over CDP', l);
    printRow('cached read', c);
    printLine(
      `  a live read costs ${(l.p50 - c.p50).toFixed(2)} ms more at p50; the cache (GEMINI_COOKIE_CACHE_MS) hides it`,
    );

    const reconnect: number[] = [];
    const fromPort: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const t = performance.now();
      await chrome.kill();
      await waitForChromiumGone(chrome.userDataDir);
      const portStart = performance.now();
      await chrome.start();
      const portOpen = performance.now();
      await session.whenConnected(30_000);
      reconnect.push(since(t));
      fromPort.push(performance.now() - Math.max(portStart, portOpen));
    }
    printLine('\nReconnect after Chromium is killed and restarted on the same profile');
    printRow('kill -> restarted -> session connected', summarize(reconnect));
    printRow('CDP port open -> session connected', summarize(fromPort));
  } finally {
    await session.close();
    await chrome.stop();
  }
}
