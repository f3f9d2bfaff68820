/**
 * Where the page's unfollowed redirects pointed. A fetch with `redirect: 'manual'` hands the page
 * only an opaque redirect (status 0, no headers), yet the client must tell Google's /sorry block
 * and a sign-in redirect from a harmless one. Chrome still reports the redirect to CDP: with the
 * Network domain on, `Network.requestWillBeSent` fires for the hop it did not take, carrying the
 * 3xx response it came from (`redirectResponse`) and the absolute target (`request.url`).
 *
 * A watch is keyed by the URL the page fetched: StreamGenerate URLs carry a unique `_reqid`, and
 * the client loads `/app` once at a time, so the URL names the request.
 */
import type { CDPSession } from 'playwright-core';

/** An unfollowed redirect: its status and absolute target. */
export interface PageRedirect {
  readonly status: number;
  readonly location: string;
}

/** A watch on one request's redirect; `stop` when it is not needed any more. */
export interface RedirectWatch {
  /** The redirect, waiting up to `timeoutMs` for its event; null when none came. */
  result(timeoutMs: number): Promise<PageRedirect | null>;
  stop(): void;
}

/** The fields of `Network.requestWillBeSent` a redirect is read from. */
interface RequestEvent {
  readonly request: { readonly url: string };
  readonly redirectResponse?: { readonly url: string; readonly status: number };
}

interface Pending {
  redirect: PageRedirect | null;
  wake: (() => void) | null;
}

/** The redirects of one tab's requests, for the URLs being watched. */
export class RedirectLog {
  private readonly watched = new Map<string, Set<Pending>>();

  constructor(cdp: Pick<CDPSession, 'on'>) {
    cdp.on('Network.requestWillBeSent', (e) => this.onRequest(e));
  }

  /**
   * Turns the Network domain on for `cdp`. Buffers of 0 bytes: the session wants the events, not
   * copies of every body (the answer streams would otherwise be kept for getResponseBody).
   */
  static async enable(cdp: Pick<CDPSession, 'send'>): Promise<void> {
    await cdp.send('Network.enable', { maxTotalBufferSize: 0, maxResourceBufferSize: 0 });
  }

  /** Starts watching `url`; call before the request leaves, so its event cannot be missed. */
  watch(url: string): RedirectWatch {
    const key = canonical(url);
    const pending: Pending = { redirect: null, wake: null };
    const set = this.watched.get(key) ?? new Set();
    set.add(pending);
    this.watched.set(key, set);
    const stop = () => {
      set.delete(pending);
      if (set.size === 0 && this.watched.get(key) === set) {
        this.watched.delete(key);
      }
    };
    return {
      result: async (timeoutMs) => {
        if (!pending.redirect) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timeoutMs);
            pending.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        stop();
        return pending.redirect;
      },
      stop,
    };
  }

  private onRequest(e: RequestEvent): void {
    const from = e.redirectResponse;
    if (!from) {
      return;
    }
    const set = this.watched.get(canonical(from.url));
    // The oldest watch without an answer takes it: same-URL requests redirect alike anyway.
    const pending = [...(set ?? [])].find((p) => p.redirect === null);
    if (!pending) {
      return;
    }
    pending.redirect = { status: from.status, location: e.request.url };
    pending.wake?.();
  }
}

function canonical(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    return u.href;
  } catch {
    return url;
  }
}
