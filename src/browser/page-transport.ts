/**
 * The page transport (GEMINI_TRANSPORT=page): every request the Gemini client sends through it
 * leaves from the worker's signed-in tab, with the page's own fetch. Chrome adds the cookies
 * (device-bound ones included), its TLS and its headers; the body streams back over CDP chunk by
 * chunk (page-channel.ts). It fails as the node transport does: no response means `send` rejects
 * (stage before_response), a cut body throws from the iterator (after_accept), an abort cancels
 * the fetch inside the page.
 */
import type { Page } from 'playwright-core';
import {
  errorForStatus,
  isSorryUrl,
  readAll,
  type GoogleTransport,
  type HttpResponse,
} from '../gemini/index.ts';
import type { ChunkQueue } from './chunk-queue.ts';
import { PageChannel } from './page-channel.ts';
import type { PageResponse } from './page-fetch-error.ts';

/** Where the page transport finds the worker's tab. */
export interface PageSource {
  /** The worker's tab, not reloaded until released; throws (an AppError) while Chrome is away. */
  holdTab(): Promise<{ readonly page: Page; readonly release: () => void }>;
}

// The browser sets these itself; a page may not (and must not try to) choose them.
const BROWSER_OWNED_HEADER =
  /^(cookie|cookie2|host|origin|referer|user-agent|content-length|connection|accept-encoding|keep-alive|te|trailer|transfer-encoding|upgrade|via|date|expect|dnt|accept-charset|access-control-request-.*|proxy-.*|sec-.*)$/i;

/** A transport that sends from the tab `pages` gives. */
export function createPageTransport(pages: PageSource): GoogleTransport {
  let channel: PageChannel | null = null;
  let channelPage: Page | null = null;
  const channelFor = async (page: Page): Promise<PageChannel> => {
    if (!channel || channelPage !== page || !channel.isOpen) {
      channel?.close('the worker tab changed');
      channelPage = page;
      channel = await PageChannel.open(page);
    }
    return channel;
  };
  // The tab may be reloaded once a body is over, not before.
  const onTab = async (
    use: (line: PageChannel) => Promise<PageResponse>,
    url: URL,
  ): Promise<HttpResponse> => {
    const tab = await pages.holdTab();
    try {
      // A tab whose own load met the block (a reload after a 401, a keep-alive) sits on /sorry.
      if (showsSorryPage(tab.page)) {
        throw errorForStatus(429, 'The worker tab', true);
      }
      const res = await use(await channelFor(tab.page));
      void res.body.done.then(tab.release);
      return wrapPageResponse(url, res.status, res.headers, res.body);
    } catch (err) {
      tab.release();
      throw err;
    }
  };
  return {
    kind: 'page',
    send(url, req = {}) {
      const target = typeof url === 'string' ? new URL(url) : url;
      const spec = {
        url: target.href,
        method: req.method ?? 'GET',
        headers: pageHeaders(req.headers ?? {}),
        text: typeof req.body === 'string' ? req.body : null,
        base64: req.body instanceof Uint8Array ? Buffer.from(req.body).toString('base64') : null,
      };
      return onTab((line) => line.fetch(spec, req.signal), target);
    },
    // Another origin's body (an answer image) is closed to the page's fetch, not to Chrome.
    getFollowingRedirects(url, signal) {
      return onTab((line) => line.load(url.href, signal), url);
    },
    forgetReceivedCookies() {
      // Chrome keeps the cookies; this process never holds any of its own.
    },
  };
}

function showsSorryPage(page: Page): boolean {
  try {
    const shown = new URL(page.url());
    return shown.hostname.endsWith('google.com') && isSorryUrl(shown);
  } catch {
    return false;
  }
}

/** The request headers a page may set: browser-owned ones are left to Chrome. */
export function pageHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !BROWSER_OWNED_HEADER.test(name)),
  );
}

function wrapPageResponse(
  url: URL,
  status: number,
  raw: readonly [string, string][],
  body: ChunkQueue,
): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of raw) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return {
    url,
    status,
    headers,
    // Set-Cookie never reaches a page's script: Chrome stores it in the profile itself.
    setCookies: [],
    body,
    header: (name) => headers[name.toLowerCase()],
    text: async () => (await readAll(body, Number.POSITIVE_INFINITY)).toString('utf8'),
    bytes: (maxBytes = Number.POSITIVE_INFINITY) => readAll(body, maxBytes),
    // Releasing the body aborts the page's fetch.
    discard: () => Promise.resolve(body.release()),
  };
}
