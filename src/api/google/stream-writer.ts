/**
 * Writes one streamGenerateContent reply in its framing (alt=sse events or the JSON array) as
 * chunks come. The 200 is committed with the first chunk; an error after it goes out as one
 * element in Google's error shape, which @google/genai raises, and closes the reply. A silent
 * reply (a thinking model) sends an SSE comment, or whitespace between array elements, every
 * keepAliveMs, so proxies in front do not cut it.
 */
import type { Response } from 'express';
import { once } from 'node:events';
import { toGoogleError } from './errors.ts';
import { createStreamFramer, type StreamFramer, type StreamFraming } from './stream.ts';
import type { GenerateContentResponse } from './wire.ts';

/** One streamed reply; every write respects backpressure. */
export class GoogleStreamWriter {
  private readonly framer: StreamFramer;
  private opened = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: Response,
    private readonly framing: StreamFraming,
    private readonly keepAliveMs = 15_000,
  ) {
    this.framer = createStreamFramer(framing);
    res.once('close', () => this.stopKeepAlive());
  }

  /** Whether the 200 went out. */
  get started(): boolean {
    return this.opened;
  }

  /** Commits the 200 with the framing's content type and `extraHeaders`. */
  start(extraHeaders: Record<string, string> = {}): void {
    if (this.opened) {
      return;
    }
    this.opened = true;
    this.res.writeHead(200, {
      'content-type': `${this.framer.contentType}; charset=utf-8`,
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
      ...(this.framing === 'sse' ? { connection: 'keep-alive' } : {}),
      ...extraHeaders,
    });
    this.res.flushHeaders();
  }

  /** Sends one chunk (committing the 200 first if needed). */
  async send(chunk: GenerateContentResponse): Promise<void> {
    await this.write(this.framer.frame(chunk));
  }

  /** Closes the reply normally. */
  end(): void {
    this.stopKeepAlive();
    if (!this.res.destroyed) {
      this.res.end(this.framer.end());
    }
  }

  /** Closes the reply with the error as its last element (never a fake finish). */
  async fail(err: unknown): Promise<void> {
    await this.write(this.framer.error(toGoogleError(err).body));
    this.stopKeepAlive();
    this.res.end();
  }

  private async write(text: string): Promise<void> {
    this.start();
    if (this.res.destroyed) {
      return;
    }
    this.armKeepAlive();
    if (text !== '' && !this.res.write(text)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }

  /** (Re)starts the silence timer; a keep-alive goes out only after keepAliveMs without a write. */
  private armKeepAlive(): void {
    this.stopKeepAlive();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      void this.write(this.framing === 'sse' ? ': keep-alive\r\n\r\n' : '\r\n');
    }, this.keepAliveMs);
    this.idleTimer.unref();
  }

  private stopKeepAlive(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }
}
