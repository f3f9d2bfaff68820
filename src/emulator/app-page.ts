/**
 * The gemini.google.com/app page. Signed in: WIZ_global_data with all five keys, the account's
 * model lists (`fast=<id>,…`, `thinking=<id>,…`) and a hidden rotation iframe (an open tab keeps rotating, as Google's does). Signed out: the guest page,
 * without SNlM0e and TuX5cc, with a visible "Sign in" link.
 */
import { randomInt } from 'node:crypto';
import { escapeHtml } from './http-io.ts';

/** The build label served as cfb2h (the `bl` query parameter). */
export const BUILD_LABEL = 'boq_assistant-bard-web-server_20261120.08_p0';
/** The upload Push-ID served as qKIAYe. */
export const PUSH_ID = 'feeds/mcudyrk2a4khkz';
const SIGN_IN_URL =
  'https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp';
const ROTATE_URL =
  'https://accounts.google.com/RotateCookiesPage?og_pid=658&rot=3&origin=https%3A%2F%2Fgemini.google.com&exp_id=0';

/** The models the page lists, by kind; `unreadable` serves them in a shape no parser knows. */
export type PageModels = { readonly fast: string[]; readonly thinking: string[] } | 'unreadable';

/**
 * The keys this emulator puts the model lists under. Google's keys change with its builds, so
 * the client finds the lists by their `fast=…` / `thinking=…` form, never by key.
 */
const MODEL_LIST_KEYS = { fast: 'Xq7Lfe', thinking: 'Yb2Rde' } as const;

/** The signed-in page for `email`, carrying the session's `at` token and its model lists. */
export function signedInAppPage(email: string, snlm0e: string, models: PageModels): string {
  const lists: Record<string, unknown> =
    models === 'unreadable'
      ? { [MODEL_LIST_KEYS.fast]: { models: { fast: [], thinking: [] } } }
      : {
          [MODEL_LIST_KEYS.fast]: `fast=${models.fast.join(',')}`,
          [MODEL_LIST_KEYS.thinking]: `thinking=${models.thinking.join(',')}`,
        };
  const wiz = {
    cfb2h: BUILD_LABEL,
    FdrFJe: sessionId(),
    SNlM0e: snlm0e,
    TuX5cc: 'en',
    qKIAYe: PUSH_ID,
    oPEP7c: email,
    ...lists,
  };
  return page(
    wiz,
    `<header><span id="account" data-email="${escapeHtml(email)}">${escapeHtml(email)}</span></header>
<main><h1>Hello, ${escapeHtml(email.split('@')[0] ?? '')}</h1>
<div class="input-area"><div contenteditable="true" role="textbox" aria-label="Enter a prompt here"></div></div></main>
<iframe id="rotate-cookies" src="${ROTATE_URL}" title="" aria-hidden="true" style="display:none" tabindex="-1"></iframe>`,
  );
}

/** The guest page: still 200, but no SNlM0e and no TuX5cc. */
export function guestAppPage(): string {
  return page(
    { cfb2h: BUILD_LABEL, FdrFJe: sessionId() },
    `<header><a id="sign-in" href="${SIGN_IN_URL}">Sign in</a></header>
<main><h1>Meet Gemini, your personal AI assistant</h1></main>`,
  );
}

function page(wiz: Record<string, unknown>, body: string): string {
  // `<` is escaped so nothing in the data can close the script element.
  const data = JSON.stringify(wiz).replace(/</g, '\\u003c');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gemini</title>
<script data-id="_gd">window.WIZ_global_data = ${data};</script></head>
<body>${body}</body></html>`;
}

/** A signed int64 string, like FdrFJe. */
function sessionId(): string {
  return `-${randomInt(1e8, 9e8)}${randomInt(1e9, 1e10)}`;
}
