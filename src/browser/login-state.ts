/**
 * Whether the person's Google session is alive, judged from the worker's tab and the jar: the
 * signed-in /app page carries `SNlM0e` in `WIZ_global_data`, the guest page does not, and a
 * signed-out jar has no `__Secure-1PSID`.
 */
import type { Page } from 'playwright-core';
import type { Cookie } from '../gemini/index.ts';
import { hasSessionCookie } from './google-cookies.ts';
import { withTimeout } from './with-timeout.ts';

/** The session's state as /health, /ready and the heartbeat report it. */
export type LoginState = 'unknown' | 'logged_in' | 'login_required' | 'browser_unreachable';

/** What the worker's tab shows. */
export type TabVerdict = 'signed_in' | 'guest' | 'other';

const APP_HOST = 'gemini.google.com';

/** Reads the tab: the signed-in app, the guest app, or something else (error page, sign-in). */
export async function inspectTab(page: Page, timeoutMs: number): Promise<TabVerdict> {
  let url: URL;
  try {
    url = new URL(page.url());
  } catch {
    return 'other';
  }
  if (url.hostname !== APP_HOST) {
    // Google sends a signed-out visitor of /app to accounts.google.com in some regions.
    return url.hostname === 'accounts.google.com' ? 'guest' : 'other';
  }
  const hasToken = await withTimeout(
    page.evaluate(() => {
      const data = (globalThis as { WIZ_global_data?: Record<string, unknown> }).WIZ_global_data;
      const token = data?.['SNlM0e'];
      return typeof token === 'string' && token.length > 0;
    }),
    timeoutMs,
    () => new Error('evaluating the worker tab timed out'),
  );
  return hasToken ? 'signed_in' : 'guest';
}

/**
 * The login state from what the tab shows and the jar holds. `null` means "cannot tell" (the
 * tab shows an error page, e.g. Google is unreachable): the caller keeps what it knew.
 */
export function decideLoginState(
  verdict: TabVerdict,
  cookies: readonly Cookie[],
): LoginState | null {
  if (!hasSessionCookie(cookies)) {
    return 'login_required';
  }
  switch (verdict) {
    case 'signed_in':
      return 'logged_in';
    case 'guest':
      return 'login_required';
    case 'other':
      return null;
  }
}
