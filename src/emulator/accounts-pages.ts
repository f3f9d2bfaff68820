/**
 * The HTML accounts.google.com serves: the sign-in form, the signed-out page, and the rotation
 * page whose script keeps a session's PSIDTS fresh while a Google tab stays open.
 */
import { escapeHtml } from './http-io.ts';

/** The rotation request body Google's own script sends. */
export const ROTATE_BODY = '[000,"-0000000000000000000"]';

/** The ServiceLogin form: `#identifierId` and `#identifierNext`. */
export function serviceLoginPage(continueUrl: string, error: string | null): string {
  const message = error ? `<p id="error" role="alert">${escapeHtml(error)}</p>` : '';
  return page(
    'Sign in - Google Accounts',
    `<h1>Sign in</h1><p>to continue to Gemini</p>${message}
<form id="signin" method="post" action="/signin">
<input type="email" id="identifierId" name="identifier" autocomplete="username" aria-label="Email or phone" required>
<input type="hidden" name="continue" value="${escapeHtml(continueUrl)}">
<button id="identifierNext" type="submit">Next</button>
</form>`,
  );
}

/** Shown after /Logout. */
export function signedOutPage(): string {
  return page(
    'Signed out',
    '<h1>You are signed out</h1><a id="sign-in" href="/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp">Sign in</a>',
  );
}

/**
 * The hidden rotation page: POSTs /RotateCookies at once when the PSIDTS is past half its
 * lifetime, then every `intervalMs`. The cookies are HttpOnly, so the server decides "at once".
 */
export function rotateCookiesPage(intervalMs: number, rotateNow: boolean): string {
  const script = `(() => {
  const intervalMs = ${Math.max(1, Math.round(intervalMs))};
  const rotate = () => fetch('/RotateCookies', {
    method: 'POST',
    credentials: 'include',
    headers: { 'Content-Type': 'application/json' },
    body: ${JSON.stringify(ROTATE_BODY)},
  }).catch(() => undefined);
  if (${rotateNow ? 'true' : 'false'}) { rotate(); }
  setInterval(rotate, intervalMs);
})();`;
  return page('', `<script>${script}</script>`);
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
}
