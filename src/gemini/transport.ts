/**
 * The seam between the Gemini client and the wire. Two implementations: `node` (node-transport.ts:
 * undici in this process with cookies copied from Chrome) and `page` (src/browser/page-transport:
 * the signed-in tab's own fetch, streamed back over CDP). Both must fail alike: a request that
 * never got a response rejects `send`, a body cut after the head throws from its iterator, and an
 * aborted signal rejects or ends with the abort; the client's send stages depend on that.
 */
import type { HttpRequest, HttpResponse } from './http.ts';

/** Which transport carries a request (GEMINI_TRANSPORT). */
export type TransportKind = 'node' | 'page';

/** Cookie-carrying HTTP for one account. Redirects are never followed. */
export interface GoogleTransport {
  readonly kind: TransportKind;
  send(url: URL | string, req?: HttpRequest): Promise<HttpResponse>;
  /**
   * GETs a resource of another origin (an answer image) with redirects followed by the transport
   * itself (page: Chrome's network stack, as CORS shuts the page's fetch out). Absent (node),
   * callers follow redirects hop by hop with `send`.
   */
  getFollowingRedirects?(url: URL, signal?: AbortSignal): Promise<HttpResponse>;
  /** Forgets cookies received in this process (after an auth failure the source knows best). */
  forgetReceivedCookies(): void;
}
