/**
 * Scraping `/app` (protocol doc §2): the WIZ_global_data keys the client needs, and what a page
 * without them means. SNlM0e (the `at` token) shows up only intermittently even when signed in,
 * so the last good value is kept.
 */
import type { Logger } from '../logging.ts';
import { describeError } from './call.ts';
import { errorForStatus, GeminiError } from './errors.ts';
import type { HttpResponse } from './http.ts';
import { readPageModels, type PageModelLists } from './page-models.ts';
import type { GoogleTransport } from './transport.ts';
import { GEMINI_APP_URL, GEMINI_PAGE_HEADERS, GOOGLE_HOME_URL } from './wire.ts';

/** The default upload Push-ID, used when the page carries no qKIAYe. */
export const DEFAULT_PUSH_ID = 'feeds/mcudyrk2a4khkz';

/** Raw values found on the page; absent keys are null. */
export interface ScrapedPage {
  /** SNlM0e: the `at` form field. */
  at: string | null;
  /** cfb2h: the `bl` query parameter. */
  bl: string | null;
  /** FdrFJe: the `f.sid` query parameter. */
  fsid: string | null;
  /** TuX5cc: the page language, present only when signed in. */
  language: string | null;
  /** qKIAYe: the upload Push-ID. */
  pushId: string | null;
  /** The `fast=…` / `thinking=…` model lists; null when the page has none. */
  models: PageModelLists | null;
}

/** What a signed-in client needs to talk to StreamGenerate and content-push. */
export interface SessionTokens {
  at: string;
  bl: string | null;
  fsid: string | null;
  language: string | null;
  pushId: string;
}

const KEYS = {
  at: 'SNlM0e',
  bl: 'cfb2h',
  fsid: 'FdrFJe',
  language: 'TuX5cc',
  pushId: 'qKIAYe',
} as const satisfies Record<Exclude<keyof ScrapedPage, 'models'>, string>;

/** Reads the WIZ_global_data keys with the tolerant `"KEY":\s*"(.*?)"` form. */
export function scrapePage(html: string): ScrapedPage {
  const read = (key: string): string | null => {
    const m = new RegExp(`"${key}":\\s*"(.*?)"`).exec(html);
    return m?.[1] === undefined ? null : unescapeJson(m[1]);
  };
  return {
    at: read(KEYS.at),
    bl: read(KEYS.bl),
    fsid: read(KEYS.fsid),
    language: read(KEYS.language),
    pushId: read(KEYS.pushId),
    models: readPageModels(html),
  };
}

function unescapeJson(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * Resolves a scraped page into tokens. A page with neither SNlM0e nor TuX5cc is the logged-out
 * (guest) page: GeminiError('auth'). A signed-in page without SNlM0e reuses `lastGoodAt`; with
 * no such value there is no way to post, which is also 'auth'.
 */
export function resolveTokens(page: ScrapedPage, lastGoodAt: string | null): SessionTokens {
  if (!page.at && !page.language) {
    throw new GeminiError(
      'auth',
      'Gemini served the signed-out page: the Google session is not valid.',
    );
  }
  const at = page.at || lastGoodAt;
  if (!at) {
    throw new GeminiError('auth', 'Gemini page carried no SNlM0e token and none is cached.');
  }
  return {
    at,
    bl: page.bl,
    fsid: page.fsid,
    language: page.language,
    pushId: page.pushId || DEFAULT_PUSH_ID,
  };
}

const MAX_PAGE_REDIRECTS = 5;
/** Hosts a signed-out session is redirected to. */
export const SIGN_IN_HOSTS: ReadonlySet<string> = new Set([
  'accounts.google.com',
  'consent.google.com',
]);

/** Whether a URL is Google's /sorry page (the blocked-IP interstitial). */
export function isSorryUrl(url: URL): boolean {
  return url.pathname.startsWith('/sorry');
}

/**
 * GETs `/app` and returns the scraped page. Same-host redirects are followed (at most 5); other
 * replies are classified by replyFailure.
 */
export async function fetchAppPage(
  transport: GoogleTransport,
  signal?: AbortSignal,
): Promise<ScrapedPage> {
  let url = new URL(GEMINI_APP_URL);
  for (let hop = 0; ; hop += 1) {
    const res = await transport.send(url, {
      headers: GEMINI_PAGE_HEADERS,
      ...(signal ? { signal } : {}),
    });
    if (res.status === 200) {
      return scrapePage(await res.text());
    }
    const next = redirectTarget(res);
    await res.discard();
    const sameHost = next !== null && next.hostname === url.hostname && !isSorryUrl(next);
    if (sameHost && hop < MAX_PAGE_REDIRECTS) {
      url = next;
      continue;
    }
    throw replyFailure('Loading gemini.google.com/app', res.status, url, next);
  }
}

/**
 * The error for a failed upstream reply: /sorry (where it went, or where it pointed, or a body
 * naming it) is 'ip_blocked'; a redirect to sign-in is 'auth'; any other redirect is
 * 'transient'; everything else goes by errorForStatus.
 */
export function replyFailure(
  what: string,
  status: number,
  url: URL,
  next: URL | null,
  sorryBody = false,
): GeminiError {
  const options = { httpStatus: status };
  if (sorryBody || isSorryUrl(next ?? url)) {
    return errorForStatus(status, what, true);
  }
  if (next && SIGN_IN_HOSTS.has(next.hostname)) {
    return new GeminiError(
      'auth',
      `${what}: redirected to sign-in, the session is not valid.`,
      options,
    );
  }
  if (next) {
    return new GeminiError('transient', `${what}: unexpected redirect (HTTP ${status}).`, options);
  }
  return errorForStatus(status, what);
}

/** The absolute Location of a 3xx reply, or null. */
export function redirectTarget(res: HttpResponse): URL | null {
  const location = res.header('location');
  if (res.status < 300 || res.status >= 400 || !location) {
    return null;
  }
  try {
    return new URL(location, res.url);
  } catch {
    return null;
  }
}

/** GETs www.google.com for the NID/AEC cookies /app expects; only an abort makes it throw. */
export async function preflight(
  transport: GoogleTransport,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  try {
    const res = await transport.send(GOOGLE_HOME_URL, { signal });
    await res.discard();
  } catch (err) {
    if (signal.aborted) {
      throw err;
    }
    log.warn('preflight to www.google.com failed; continuing', { error: describeError(err) });
  }
}
