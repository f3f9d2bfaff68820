/**
 * content-push.googleapis.com `POST /upload`: a multipart `file` part plus a Push-ID header;
 * the answer is the file id as text. Name, type and size are kept for the generate answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readBody, send, type RequestContext } from './http-io.ts';
import { multipartBoundary, parseMultipart } from './multipart.ts';

const UPLOAD_LIMIT_BYTES = 64 * 1024 * 1024;
const RECORDED_TEXT_BYTES = 1024 * 1024;

/** The one web origin allowed to upload from a page, with its cookies (as Google's CORS does). */
const PAGE_ORIGIN = 'https://gemini.google.com';

/** CORS headers for a request from the Gemini page; none for any other origin. */
function corsHeaders(ctx: RequestContext): Record<string, string> {
  if (ctx.req.headers.origin !== PAGE_ORIGIN) {
    return {};
  }
  return { 'access-control-allow-origin': PAGE_ORIGIN, 'access-control-allow-credentials': 'true' };
}

/** Handles requests for content-push.googleapis.com. */
export async function handleUpload(ctx: RequestContext): Promise<void> {
  if (ctx.url.pathname !== '/upload') {
    send(ctx, 404, 'Not Found');
    return;
  }
  const cors = corsHeaders(ctx);
  if (ctx.req.method === 'OPTIONS') {
    // The page's preflight: its upload carries Push-ID and X-Tenant-Id.
    const asked = ctx.req.headers['access-control-request-headers'] ?? '';
    send(ctx, cors['access-control-allow-origin'] ? 204 : 403, '', {
      ...cors,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': asked,
    });
    return;
  }
  if (ctx.req.method !== 'POST') {
    send(ctx, 405, 'Method Not Allowed', { allow: 'POST' });
    return;
  }
  const body = await readBody(ctx.req, UPLOAD_LIMIT_BYTES);
  if (!ctx.req.headers['push-id']) {
    send(ctx, 400, 'Missing Push-ID', cors);
    return;
  }
  const contentType = ctx.req.headers['content-type'];
  const boundary = multipartBoundary(contentType);
  // Older clients posted the raw bytes; accept those too.
  const part = boundary
    ? parseMultipart(body, boundary).find((p) => p.name === 'file')
    : { fileName: null, contentType: contentType ?? null, data: body };
  if (!part) {
    send(ctx, 400, 'Missing file part');
    return;
  }
  const fileId = `/contrib_service/ttl_1d/${Math.floor(ctx.state.now() / 1000)}i${randomBytes(16).toString('hex')}`;
  const info = {
    fileId,
    name: part.fileName ?? 'upload.bin',
    mimeType: part.contentType ?? 'application/octet-stream',
    bytes: part.data.length,
  };
  ctx.state.uploads.set(fileId, info);
  ctx.record.upload = {
    ...info,
    sha256: createHash('sha256').update(part.data).digest('hex'),
    ...(info.mimeType.startsWith('text/') && part.data.length <= RECORDED_TEXT_BYTES
      ? { text: part.data.toString('utf8') }
      : {}),
  };
  send(ctx, 200, fileId, cors);
}
