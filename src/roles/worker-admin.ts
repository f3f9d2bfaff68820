/**
 * What the worker's admin routes do (refresh the session, screenshot, reset the cooldown, drain),
 * each writing the registry at once so the console shows the change within its next poll.
 */
import type { AccountState } from '../account/index.ts';
import type { AdminActions, DrainSwitch } from '../api/index.ts';
import type { BrowserCookies } from '../browser/index.ts';
import { ServiceUnavailableError } from '../errors.ts';

/** The admin routes' actions for one worker. */
export function adminActions(
  browser: BrowserCookies,
  account: AccountState,
  drain: DrainSwitch,
  /** Every action writes the registry at once, not at the next beat: the console shows it in 2 s. */
  beatNow: () => Promise<boolean>,
): AdminActions {
  return {
    refreshSession: async () => {
      browser.cookies.invalidate();
      if (browser.session) {
        // Answers with the new state even when it is login_required (no 503 here).
        const loginState = await browser.session.refresh();
        await beatNow();
        return { login_state: loginState };
      }
      await browser.cookies.refresh();
      await beatNow();
      return { login_state: account.snapshot().loginState };
    },
    screenshot: async () => {
      if (!browser.session) {
        throw new ServiceUnavailableError('No browser is attached (CHROME_CDP_URL=off).', 60);
      }
      return browser.session.screenshot();
    },
    resetCooldown: async () => {
      const reset = await account.reset();
      await beatNow();
      return { account: reset };
    },
    setDraining: async (draining) => {
      drain.set(draining);
      const registered = await beatNow();
      return { draining: drain.draining, registered };
    },
  };
}
