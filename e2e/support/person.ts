/**
 * The person at the Kasm desktop, stood in for: signs the Chromium in to (or out of) the
 * emulator's Google in a tab of their own, over their own CDP connection.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type BrowserContext } from 'playwright-core';
import { signInWithEmulator } from '../../scripts/lib/index.ts';

/** Runs `fn` in the person's own CDP connection (their browser, not the worker's). */
export async function asPerson<T>(
  cdpUrl: string,
  fn: (context: BrowserContext) => Promise<T>,
): Promise<T> {
  const browser = await chromium.connectOverCDP(cdpUrl, { timeout: 10_000 });
  try {
    return await fn(browser.contexts()[0]!);
  } finally {
    await browser.close();
  }
}

/** Signs in on ServiceLogin and lands on gemini.google.com/app (the stack does the same). */
export const personSignIn = (cdpUrl: string, email: string): Promise<void> =>
  signInWithEmulator(cdpUrl, email);

/** Signs out, which kills the session's cookies everywhere at once, as Google's do. */
export async function personSignOut(cdpUrl: string): Promise<void> {
  await asPerson(cdpUrl, async (context) => {
    const page = await context.newPage();
    await page.goto('https://accounts.google.com/Logout');
    await page.close();
  });
}

/** Waits until no process of a killed Chromium is left (its network service outlives it). */
export async function waitForChromiumGone(userDataDir: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const alive = () =>
    fs.readdirSync('/proc').some((pid) => {
      try {
        return (
          /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(userDataDir)
        );
      } catch {
        return false;
      }
    });
  while (alive() && Date.now() < deadline) {
    await sleep(50);
  }
}

/** Polls `probe` until it resolves true; returns the ms it took, or throws after `timeoutMs`. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  stepMs = 100,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe().catch(() => false)) {
      return Date.now() - start;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(`not true within ${timeoutMs} ms`);
    }
    await sleep(stepMs);
  }
}
