/**
 * @module gateway/console/page
 * The console's two HTML pages, rendered here: the sign-in form and the console's shell, which
 * its bundled script fills from /console/state. Script and styles come from /console/assets,
 * so the Content-Security-Policy allows nothing inline.
 */
import { escapeHtml } from '../dashboard.ts';

/** Where the bundled script and styles are served. */
export const ASSETS_PATH = '/console/assets';

/** The Content-Security-Policy of both pages: only this origin's script, styles and images. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${ASSETS_PATH}/console.css">${head}
</head>
<body>${body}</body></html>`;
}

/** The sign-in form; `problem` says why the last attempt failed. */
export function renderSignIn(problem: string | null): string {
  const alert = problem
    ? `<p class="problem" role="alert" id="sign-in-problem">${escapeHtml(problem)}</p>`
    : '';
  return page(
    'Sign in · gemini-kasm console',
    `<main class="sign-in">
<h1>gemini-kasm console</h1>
<form method="post" action="/console/sign-in">
${alert}
<label for="admin-key">Admin key</label>
<input id="admin-key" name="key" type="password" autocomplete="current-password" required
  autofocus spellcheck="false">
<button type="submit">Sign in</button>
</form>
<p class="hint">An admin key from ADMIN_API_KEYS. It stays on the gateway; the browser keeps only
a session cookie.</p>
</main>`,
  );
}

/** The console's shell: totals, the account cards (filled by the script), sign-out. */
export function renderConsole(csrfToken: string, keyId: string): string {
  return page(
    'gemini-kasm console',
    `<header class="top">
<h1>gemini-kasm console</h1>
<form method="post" action="/console/sign-out" class="sign-out">
<span class="who">key ${escapeHtml(keyId)}</span>
<input type="hidden" name="csrf" value="${escapeHtml(csrfToken)}">
<button type="submit">Sign out</button>
</form>
</header>
<section id="totals" aria-label="Totals">
<div><span class="label">Accounts able to serve</span>
<strong><span data-summary="eligible">-</span> / <span data-summary="total">-</span></strong></div>
<div><span class="label">Requests / min</span><strong data-summary="rpm">-</strong></div>
<div><span class="label">Failed over</span><strong data-summary="failed-over">-</strong></div>
<div><span class="label">Upstream sends / requests</span><strong data-summary="sends">-</strong></div>
</section>
<p id="registry" role="status"></p>
<main id="nodes" aria-live="off"></main>
<p id="updated" role="status" aria-live="polite">loading…</p>`,
    `\n<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<script type="module" src="${ASSETS_PATH}/console.js"></script>`,
  );
}
