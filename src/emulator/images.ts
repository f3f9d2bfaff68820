/**
 * Image hosts. `lh3.googleusercontent.com/gg-dl/<id>` 302s to
 * `work.fife.usercontent.google.com/rd-gg-dl/<id>`, which serves a PNG only to the owning
 * account's cookies (403 otherwise). Web images under `/webimg/` are public.
 */
import { redirect, send, type RequestContext } from './http-io.ts';
import { makePng } from './png.ts';

const PNG_HEADERS = { 'content-type': 'image/png', 'cache-control': 'private, max-age=86400' };

/** Handles requests for *.googleusercontent.com. */
export function handleUserContent(ctx: RequestContext): void {
  const path = ctx.url.pathname;
  if (!isRead(ctx)) {
    send(ctx, 405, 'Method Not Allowed', { allow: 'GET' });
    return;
  }
  if (path.startsWith('/gg-dl/')) {
    const { id, suffix } = splitImagePath(path.slice('/gg-dl/'.length));
    if (!ctx.state.images.has(id)) {
      send(ctx, 404, 'Not Found');
      return;
    }
    redirect(
      ctx,
      `https://work.fife.usercontent.google.com/rd-gg-dl/${id}${suffix}${ctx.url.search}`,
    );
  } else if (path.startsWith('/webimg/') || path.startsWith('/a/')) {
    send(ctx, 200, makePng(path), PNG_HEADERS);
  } else {
    send(ctx, 404, 'Not Found');
  }
}

/** Handles requests for *.usercontent.google.com (the fife image host). */
export function handleFife(ctx: RequestContext): void {
  const path = ctx.url.pathname;
  if (!isRead(ctx)) {
    send(ctx, 405, 'Method Not Allowed', { allow: 'GET' });
    return;
  }
  if (!path.startsWith('/rd-gg-dl/')) {
    send(ctx, 404, 'Not Found');
    return;
  }
  const { id } = splitImagePath(path.slice('/rd-gg-dl/'.length));
  const image = ctx.state.images.get(id);
  if (!image) {
    send(ctx, 404, 'Not Found');
    return;
  }
  const owner = ctx.identity.signedIn && ctx.identity.account?.email === image.email;
  if (!owner) {
    send(ctx, 403, 'Forbidden');
    return;
  }
  send(ctx, 200, makePng(id), PNG_HEADERS);
}

/** `<id>=s2048-rj` -> id and `=s2048-rj`. */
function splitImagePath(rest: string): { id: string; suffix: string } {
  const eq = rest.indexOf('=');
  return eq === -1 ? { id: rest, suffix: '' } : { id: rest.slice(0, eq), suffix: rest.slice(eq) };
}

function isRead(ctx: RequestContext): boolean {
  return ctx.req.method === 'GET' || ctx.req.method === 'HEAD';
}
