/**
 * A "person" signing a Chromium in to an emulator account, as they would over VNC: their own tab
 * on ServiceLogin, the address typed, Next, and the landing on gemini.google.com/app.
 */
import { chromium } from 'playwright-core';

const SIGN_IN_URL =
  'https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp';

/** Signs the Chromium behind `cdpUrl` in as `email`; resolves with the time the sign-in landed. */
export async function signInAsPerson(
  cdpUrl: string,
  email: string,
  timeoutMs = 20_000,
): Promise<number> {
  const browser = await chromium.connectOverCDP(cdpUrl, { timeout: timeoutMs });
  try {
    const context = browser.contexts()[0];
    if (!context) {
      throw new Error(`the Chromium at ${cdpUrl} has no default context`);
    }
    const page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    await page.goto(SIGN_IN_URL);
    await page.fill('#identifierId', email);
    await Promise.all([
      page.waitForURL('https://gemini.google.com/app'),
      page.click('#identifierNext'),
    ]);
    const landedAt = Date.now();
    await page.close();
    return landedAt;
  } finally {
    // Over CDP this drops only the person's connection: the browser stays up, signed in.
    await browser.close();
  }
}
