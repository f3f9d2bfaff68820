/**
 * Writes one streamGenerateContent reply in its framing (alt=sse events or the JSON array) as
 * chunks come. The 200 is committed with the first chunk; an error after it goes out as one
 * element in Google's error shape, which @google/genai raises, and closes the reply. A silent
 * reply (a thinking model) sends an SSE comment, or whitespace between array elements, every
 * keepAliveMs, so proxies in front do not cut it.
 */
import type { Response } from 'express';
import { StreamWriter } from '../stream-writer.ts';
import { toGoogleError } from './errors.ts';
import { createStreamFramer, type StreamFramer, type StreamFraming } from './stream.ts';
import type { GenerateContentResponse } from './wire.ts';

/** One streamed reply over the shared stream writer. */
export class GoogleStreamWriter extends StreamWriter {
  private readonly framer: StreamFramer;

  constructor(
    res: Response,
    private readonly framing: StreamFraming,
    keepAliveMs?: number,
  ) {
    super(res, keepAliveMs);
    this.framer = createStreamFramer(framing);
  }

  /** Sends one chunk (committing the 200 first if needed). */
  async send(chunk: GenerateContentResponse): Promise<void> {
    this.start();
    await this.write(this.framer.frame(chunk));
  }

  /** Closes the reply normally. */
  end(): void {
    this.close(this.framer.end());
  }

  /** Closes the reply with the error as its last element (never a fake finish). */
  async fail(err: unknown): Promise<void> {
    this.start();
    await this.write(this.framer.error(toGoogleError(err).body));
    this.close();
  }

  protected contentType(): string {
    return this.framer.contentType;
  }

  protected keepAliveFrame(): string {
    return this.framing === 'sse' ? ': keep-alive\r\n\r\n' : '\r\n';
  }
}
