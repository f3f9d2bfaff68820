/**
 * Downloading answer images. Generated (`gg-dl`) images need the account's cookies and answer
 * with redirects, which are followed by hand so cookies are chosen afresh for every host (a
 * cookie never goes to a host it does not belong to).
 */
import { errorForStatus, GeminiError } from './errors.ts';
import { BodyTooLargeError } from './http.ts';
import { redirectTarget } from './tokens.ts';
import type { GoogleTransport } from './transport.ts';
import { isGoogleHost } from './wire.ts';

/** A downloaded image. */
export interface FetchedImage {
  data: Buffer;
  contentType: string;
}

const MAX_REDIRECTS = 5;
const GG_DL_RE = /^\/gg-dl\//;

/** Appends `=s2048` to a gg-dl URL that carries no size suffix (as v1.17.3 does). */
export function withImageSize(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.hostname.endsWith('googleusercontent.com') || !GG_DL_RE.test(u.pathname)) {
    return url;
  }
  const lastSegment = u.pathname.slice(u.pathname.lastIndexOf('/') + 1);
  if (lastSegment.includes('=')) {
    return url;
  }
  u.pathname = `${u.pathname}=s2048`;
  return u.toString();
}

/**
 * GETs an image, following up to 5 redirects (or as many as the transport follows itself, the
 * page transport's Chrome); non-200 statuses are classified.
 */
export async function downloadImage(
  transport: GoogleTransport,
  url: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<FetchedImage> {
  let target = new URL(withImageSize(url));
  for (let hop = 0; ; hop += 1) {
    const res = transport.getFollowingRedirects
      ? await transport.getFollowingRedirects(target, signal)
      : await transport.send(target, signal ? { signal } : {});
    const next = redirectTarget(res);
    if (next && hop < MAX_REDIRECTS) {
      await res.discard();
      target = next;
      continue;
    }
    if (res.status !== 200) {
      await res.discard();
      throw imageFailure(target, res.status, next !== null);
    }
    try {
      const data = await res.bytes(maxBytes);
      return { data, contentType: res.header('content-type') ?? 'application/octet-stream' };
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        throw new GeminiError('bad_request', `Image download: larger than ${maxBytes} bytes.`);
      }
      throw err;
    }
  }
}

function imageFailure(url: URL, status: number, tooManyRedirects: boolean): GeminiError {
  if (tooManyRedirects) {
    return new GeminiError('transient', `Image download: more than ${MAX_REDIRECTS} redirects.`);
  }
  // A third-party host's refusal says nothing about the Google account: no auth retry, no cooldown.
  if (!isGoogleHost(url.hostname)) {
    return new GeminiError(
      'bad_request',
      `Image download: ${url.hostname} answered HTTP ${status}.`,
      {
        httpStatus: status,
      },
    );
  }
  return errorForStatus(status, 'Image download');
}
