/**
 * Server-sent events for chat completions. Headers follow hono's streamSSE; errors after the 200
 * go out as an OpenAI-shaped `data: {"error":…}` event, which the official SDKs raise as APIError,
 * followed by `data: [DONE]`. Once committed, a silent stream (a thinking model, an image
 * download) sends a `: keep-alive` comment every keepAliveMs so proxies in front do not cut it.
 */
import type { Response } from 'express';
import { once } from 'node:events';
import { toOpenAIError } from '../errors.ts';

/** Writes one SSE response; every write respects backpressure. */
export class SseWriter {
  private opened = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: Response,
    private readonly keepAliveMs = 15_000,
  ) {
    res.once('close', () => this.stopKeepAlive());
  }

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
    // Corked until the next tick: the headers leave in one write with the first event (sent in
    // the same tick), not in a packet and a wake-up of the client of their own.
    const socket = this.res.socket;
    socket?.cork();
    this.res.flushHeaders();
    if (socket) {
      process.nextTick(() => socket.uncork());
    }
    this.armKeepAlive();
  }

  /** Sends one `data:` event; waits for the socket to drain when its buffer is full. */
  async send(payload: unknown): Promise<void> {
    await this.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  /** Sends one named event (`event: name` + `data:`), as the Responses API streams. */
  async sendEvent(name: string, payload: unknown): Promise<void> {
    await this.write(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  /** Ends the stream with an error event and `[DONE]` (never a fake `stop`). */
  async fail(err: unknown): Promise<void> {
    await this.send(toOpenAIError(err).body);
    await this.done();
  }

  /** Ends the stream without `[DONE]` (the Responses API ends with its completed event). */
  end(): void {
    this.stopKeepAlive();
    this.res.end();
  }

  async done(): Promise<void> {
    this.stopKeepAlive();
    if (!this.res.destroyed) {
      this.res.write('data: [DONE]\n\n');
    }
    this.res.end();
  }

  private async write(text: string): Promise<void> {
    if (this.res.destroyed) {
      return;
    }
    this.armKeepAlive();
    if (!this.res.write(text)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }

  /** What a silent stream sends; a dialect whose clients expect an event overrides it. */
  protected keepAliveFrame(): string {
    return ': keep-alive\n\n';
  }

  /** (Re)starts the silence timer; a comment goes out only after keepAliveMs without a write. */
  private armKeepAlive(): void {
    this.stopKeepAlive();
    if (!this.opened || this.res.writableEnded) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      void this.write(this.keepAliveFrame());
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
