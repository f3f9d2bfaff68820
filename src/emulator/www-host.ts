/**
 * www.google.com: the preflight `GET /` that sets NID/AEC, and the `/sorry/index` page a blocked
 * IP is sent to, which answers 429.
 */
import { randomBytes } from 'node:crypto';
import { sendHtml, send, type RequestContext } from './http-io.ts';
import { preflightCookies, toSetCookie } from './session-cookies.ts';

/** Where a blocked request is redirected. */
export function sorryUrl(original: URL): string {
  const q = randomBytes(24).toString('base64url');
  return `https://www.google.com/sorry/index?continue=${encodeURIComponent(original.href)}&q=${q}`;
}

/** Handles requests for www.google.com. */
export function handleWww(ctx: RequestContext): void {
  const path = ctx.url.pathname;
  if (path.startsWith('/sorry')) {
    sendHtml(
      ctx,
      429,
      '<!doctype html><html><head><title>Sorry...</title></head><body><h1>Sorry...</h1>' +
        "<p>We're sorry... but your computer or network may be sending automated queries.</p>" +
        '</body></html>',
    );
    return;
  }
  if (path === '/' && (ctx.req.method === 'GET' || ctx.req.method === 'HEAD')) {
    sendHtml(
      ctx,
      200,
      '<!doctype html><html><head><title>Google</title></head><body>Google</body></html>',
      {
        'set-cookie': preflightCookies().map(toSetCookie),
      },
    );
    return;
  }
  send(ctx, 404, 'Not Found');
}
