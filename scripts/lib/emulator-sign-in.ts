/**
 * Signs a stack Chromium in to the emulator the way a person would: a new tab on ServiceLogin,
 * the address typed into #identifierId, Next, and the landing on gemini.google.com/app.
 */
import { chromium } from 'playwright-core';

/** Google's sign-in page (served by the emulator through the host rules). */
export const SIGN_IN_URL =
  'https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp';

/** Signs the browser behind `cdpUrl` in as `email`; leaves the browser running and signed in. */
export async function signInWithEmulator(
  cdpUrl: string,
  email: string,
  timeoutMs = 30_000,
): Promise<void> {
  const browser = await chromium.connectOverCDP(cdpUrl, { timeout: timeoutMs });
  try {
    const context = browser.contexts()[0];
    if (!context) {
      throw new Error(`the browser at ${cdpUrl} has no default context`);
    }
    const page = await context.newPage();
    try {
      page.setDefaultTimeout(timeoutMs);
      await page.goto(SIGN_IN_URL);
      await page.fill('#identifierId', email);
      await Promise.all([
        page.waitForURL((url) => url.hostname === 'gemini.google.com' && url.pathname === '/app'),
        page.click('#identifierNext'),
      ]);
    } finally {
      await page.close();
    }
  } finally {
    // Over CDP this only drops our connection; the browser keeps running, signed in.
    await browser.close();
  }
}
