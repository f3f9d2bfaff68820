/**
 * @module gateway/upstream-body
 * The body of a worker's response as undici's `dispatch` hands it over, chunk by chunk, without a
 * Readable between the socket and the client (a stream costs ticks and allocations per request
 * that the relay does not need). Chunks that come before a consumer takes the body (in the same
 * socket read as the headers, while the failover decides) are held; undici's parser is paused
 * while the client's socket is full, or while too much is held, and resumed on `drain`.
 */
import type { ServerResponse } from 'node:http';

/** How a relay ended. */
export type RelayEnd = 'done' | 'upstream_error' | 'client_gone';

/** Bytes held before a consumer takes the body, past which undici's parser is paused. */
const HELD_MAX_BYTES = 64 * 1024;

/** Who reads the body: sees each chunk, then its end or its failure. */
interface Consumer {
  /** Takes a chunk; false when the reader is full (the parser pauses until resumeUpstream). */
  chunk(chunk: Buffer): boolean;
  end(): void;
  fail(): void;
  /** The whole body, when it had all come before it was taken (instead of chunk, then end). */
  whole?(chunks: readonly Buffer[]): void;
}

/** A response body fed by an undici dispatch handler; read once, by relayTo or readCapped. */
export class UpstreamBody {
  #held: Buffer[] = [];
  #heldBytes = 0;
  #state: 'open' | 'ended' | 'failed' = 'open';
  #consumer: Consumer | null = null;
  /** The parser was told to pause (onData returned false) and waits for resume. */
  #paused = false;

  /**
   * @param abortUpstream ends the upstream request (its socket); undici then calls onError.
   * @param resume undici's resume of a paused parser.
   */
  constructor(
    private readonly abortUpstream: (reason: Error) => void,
    private readonly resume: () => void,
  ) {}

  /** From the handler's onData; false pauses undici's parser. */
  push(chunk: Buffer): boolean {
    if (this.#consumer !== null) {
      this.#paused = !this.#consumer.chunk(chunk);
      return !this.#paused;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    this.#paused = this.#heldBytes >= HELD_MAX_BYTES;
    return !this.#paused;
  }

  /** From the handler's onComplete. */
  end(): void {
    this.#state = 'ended';
    this.#consumer?.end();
  }

  /** From the handler's onError after the headers. */
  fail(): void {
    if (this.#state === 'open') {
      this.#state = 'failed';
      this.#consumer?.fail();
    }
  }

  /** Ends the upstream request unless it is over. */
  destroy(): void {
    if (this.#state === 'open') {
      this.abortUpstream(new Error('the relay stopped reading the upstream body'));
    }
  }

  /**
   * Copies the body to `res` chunk by chunk, pausing the upstream on a full socket until `drain`.
   * `onChunk` sees each chunk once it is written. Does not end `res` on an upstream error (the
   * caller decides).
   */
  relayTo(res: ServerResponse, onChunk: (chunk: Buffer) => void): Promise<RelayEnd> {
    if (res.destroyed) {
      this.destroy();
      return Promise.resolve('client_gone');
    }
    return new Promise((resolve) => {
      let settled = false;
      const finish = (end: RelayEnd): void => {
        if (!settled) {
          settled = true;
          res.off('close', onClose);
          resolve(end);
        }
      };
      const onClose = (): void => {
        if (!res.writableFinished) {
          this.destroy();
          finish('client_gone');
        }
      };
      const onDrain = (): void => this.#resumeUpstream();
      res.on('close', onClose);
      this.#attach({
        chunk(chunk) {
          // Out to the client first: what onChunk reads (the answer tap) must not delay a token.
          const full = !res.write(chunk);
          onChunk(chunk);
          if (full) {
            res.once('drain', onDrain);
          }
          return !full;
        },
        end: () => res.end(() => finish('done')),
        // A whole answer goes out in one write before onChunk reads it (res.write is corked
        // until the end): the tap's parse is then off the client's path.
        whole(chunks) {
          for (const chunk of chunks) {
            res.write(chunk);
          }
          res.end(() => finish('done'));
          chunks.forEach(onChunk);
        },
        // The client's going away aborts the upstream too: that failure is the client's.
        fail: () => finish(res.destroyed ? 'client_gone' : 'upstream_error'),
      });
    });
  }

  /** Reads the (small, error) body whole; null when it is longer than maxBytes or fails. */
  readCapped(maxBytes: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.#attach({
        chunk: (chunk) => {
          size += chunk.length;
          if (size > maxBytes) {
            if (size - chunk.length <= maxBytes) {
              this.destroy();
              resolve(null);
            }
            return false;
          }
          chunks.push(chunk);
          return true;
        },
        end: () => resolve(Buffer.concat(chunks, size)),
        fail: () => resolve(null),
      });
    });
  }

  /** Hands the held chunks, then the end or failure if it came, to its one consumer. */
  #attach(consumer: Consumer): void {
    if (this.#consumer !== null) {
      throw new Error('an upstream body is read once');
    }
    this.#consumer = consumer;
    const held = this.#held;
    this.#held = [];
    if (this.#state === 'ended' && consumer.whole !== undefined) {
      consumer.whole(held);
      return;
    }
    let full = false;
    for (const chunk of held) {
      full = !consumer.chunk(chunk) || full;
    }
    if (this.#state === 'ended') {
      consumer.end();
    } else if (this.#state === 'failed') {
      consumer.fail();
    } else if (!full) {
      this.#resumeUpstream();
    } else {
      this.#paused = true;
    }
  }

  #resumeUpstream(): void {
    if (this.#paused && this.#state === 'open') {
      this.#paused = false;
      this.resume();
    }
  }
}
