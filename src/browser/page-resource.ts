/**
 * GETs of another origin (answer images on googleusercontent.com) through Chrome's own network
 * stack: `Network.loadNetworkResource` loads the URL for the tab's main frame with its cookies,
 * its TLS and its user agent, following redirects, and the body is read back with `IO.read`. A
 * page's fetch could not do it: CORS hides a cross-origin body from the page's script.
 *
 * Chrome answers only once the whole body is in, and a load cannot be cancelled; an abort
 * rejects at once and the stream is closed (its memory freed in Chrome) the moment it arrives.
 */
import type { CDPSession } from 'playwright-core';
import { createChunkQueue, type ChunkQueue } from './chunk-queue.ts';
import { abortError, PageFetchError, raceAbort, type PageResponse } from './page-fetch-error.ts';

/** The CDP calls a load needs. */
export type ResourceCdp = Pick<CDPSession, 'send'>;

const READ_SIZE = 256 * 1024;

/** GETs `url` as the frame `frameId` would, redirects followed; the body streams from IO.read. */
export async function loadPageResource(
  cdp: ResourceCdp,
  frameId: string,
  url: string,
  signal?: AbortSignal,
): Promise<PageResponse> {
  signal?.throwIfAborted();
  const loading = cdp.send('Network.loadNetworkResource', {
    frameId,
    url,
    options: { disableCache: false, includeCredentials: true },
  });
  let resource;
  try {
    ({ resource } = await raceAbort(loading, signal));
  } catch (err) {
    if (signal?.aborted) {
      // The load goes on in Chrome: free its stream once it is there.
      void loading.then(
        ({ resource: late }) => late.stream && closer(cdp, late.stream)(),
        () => 0,
      );
      throw err;
    }
    throw new PageFetchError('cdp', 'Chrome could not load the resource.', { cause: err });
  }
  // A 4xx/5xx is `success: false` with its status; only a network failure has none.
  if (resource.httpStatusCode === undefined) {
    const name = (resource.netErrorName ?? 'net::ERR_FAILED').replace(/^net::/, '');
    throw new PageFetchError(`page_${name}`, `Chrome could not load the resource (${name}).`);
  }
  const stream = resource.stream;
  const close = stream ? closer(cdp, stream) : () => undefined;
  const body = createChunkQueue(close);
  if (stream) {
    void pump(cdp, stream, body, signal).finally(close);
  } else {
    body.end();
  }
  return {
    status: resource.httpStatusCode,
    headers: Object.entries(resource.headers ?? {}),
    url,
    body,
  };
}

/** Reads the stream into `body` until EOF, a failure, an abort or the reader leaving. */
async function pump(
  cdp: ResourceCdp,
  stream: string,
  body: ChunkQueue,
  signal: AbortSignal | undefined,
): Promise<void> {
  const onAbort = () => body.fail(signal && abortError(signal));
  signal?.addEventListener('abort', onAbort, { once: true });
  let settled = false;
  void body.done.then(() => (settled = true));
  try {
    while (!settled) {
      const chunk = await cdp.send('IO.read', { handle: stream, size: READ_SIZE });
      if (chunk.data.length > 0) {
        body.push(Buffer.from(chunk.data, chunk.base64Encoded ? 'base64' : 'utf8'));
        // One chunk ahead of the reader at most: a reader at its byte limit stops the reading.
        await body.whenDrained();
      }
      if (chunk.eof) {
        body.end();
        return;
      }
    }
  } catch (err) {
    body.fail(
      new PageFetchError('cdp', 'Reading the resource from Chrome failed.', { cause: err }),
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Closes the stream in Chrome, once however often it is called. */
function closer(cdp: ResourceCdp, stream: string): () => void {
  let closed = false;
  return () => {
    if (!closed) {
      closed = true;
      cdp.send('IO.close', { handle: stream }).catch(() => undefined);
    }
  };
}
