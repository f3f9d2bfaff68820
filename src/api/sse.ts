/**
 * Server-sent events for chat completions. Headers follow hono's streamSSE; errors after the 200
 * go out as an OpenAI-shaped `data: {"error":…}` event, which the official SDKs raise as APIError.
 */
import type { Response } from 'express';
import { once } from 'node:events';
import { toOpenAIError } from '../errors.ts';

/** Writes one SSE response; every write respects backpressure. */
export class SseWriter {
  private opened = false;

  constructor(private readonly res: Response) {}

  get started(): boolean {
    return this.opened;
  }

  /** Commits the 200 and the event-stream headers. */
  start(extraHeaders: Record<string, string> = {}): void {
    if (this.opened) {
      return;
    }
    this.opened = true;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...extraHeaders,
    });
    this.res.flushHeaders();
  }

  /** Sends one `data:` event; waits for the socket to drain when its buffer is full. */
  async send(payload: unknown): Promise<void> {
    if (this.res.destroyed) {
      return;
    }
    if (!this.res.write(`data: ${JSON.stringify(payload)}\n\n`)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }

  /** Ends the stream with an error event (never a fake `stop`). */
  async fail(err: unknown): Promise<void> {
    await this.send(toOpenAIError(err).body);
    this.res.end();
  }

  async done(): Promise<void> {
    if (!this.res.destroyed) {
      this.res.write('data: [DONE]\n\n');
    }
    this.res.end();
  }
}
