/**
 * What the page transport's pieces share: the error a failed page request throws, the response
 * head they hand back, and the abort helpers (an abort rejects with its reason, as undici does).
 */
import type { ChunkQueue } from './chunk-queue.ts';

/** A failure of the page's fetch or of the CDP line to it; `code` is what logs may show. */
export class PageFetchError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PageFetchError';
  }
}

/** A response head from the page, with its body still arriving. */
export interface PageResponse {
  readonly status: number;
  readonly headers: [string, string][];
  readonly url: string;
  readonly body: ChunkQueue;
}

/** `work`, or a rejection with the abort reason as soon as `signal` aborts. */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) {
    return work;
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The abort reason as an Error, as undici rejects with it. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('The operation was aborted.', 'AbortError');
}
