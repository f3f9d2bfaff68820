/**
 * What every dialect's streamed reply shares (OpenAI's and Anthropic's SSE, Google's SSE and JSON
 * array): the 200 committed once, a keep-alive frame after keepAliveMs of silence so proxies in
 * front do not cut a thinking model's stream, and writes that respect backpressure. A dialect
 * gives its content type, its keep-alive frame and its framing (what it passes to write/close).
 */
import type { Response } from 'express';
import { once } from 'node:events';

/** One streamed reply; every write respects backpressure. */
export abstract class StreamWriter {
  private opened = false;
  private holding = false;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    protected readonly res: Response,
    private readonly keepAliveMs = 15_000,
  ) {
    res.once('close', () => this.stopKeepAlive());
  }

  /** Whether the 200 went out. */
  get started(): boolean {
    return this.opened;
  }

  /** Commits the 200 with the dialect's content type and `extraHeaders` (once). */
  start(extraHeaders: Record<string, string> = {}): void {
    if (this.opened) {
      return;
    }
    this.opened = true;
    const contentType = this.contentType();
    this.res.writeHead(200, {
      'content-type': `${contentType}; charset=utf-8`,
      'cache-control': 'no-cache',
      // As hono's streamSSE says it; a streamed JSON array never did.
      ...(contentType === 'text/event-stream' ? { connection: 'keep-alive' } : {}),
      'x-accel-buffering': 'no',
      ...extraHeaders,
    });
    // The headers leave in one write with the first frame, not in a packet of their own.
    this.holdWritesForThisTurn();
    this.res.flushHeaders();
    this.armKeepAlive();
  }

  /** The body's media type (`text/event-stream`, `application/json`). */
  protected abstract contentType(): string;

  /** What a silent stream sends after keepAliveMs. */
  protected abstract keepAliveFrame(): string;

  /** Writes one frame; waits for the socket to drain when its buffer is full. */
  protected async write(frame: string): Promise<void> {
    if (this.res.destroyed) {
      return;
    }
    this.armKeepAlive();
    this.holdWritesForThisTurn();
    if (frame !== '' && !this.res.write(frame)) {
      await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
    }
  }

  /** Ends the reply, with `lastFrame` when the client is still there. */
  protected close(lastFrame = ''): void {
    this.stopKeepAlive();
    // end() sends what is held together with the last frame, in one write.
    this.holding = false;
    this.res.end(this.res.destroyed ? undefined : lastFrame);
  }

  /**
   * Holds the socket's writes until the event loop's check phase, so that frames made from one
   * upstream read leave in one write (one system call, one wake-up of the client) instead of
   * one each: node's own per-write cork ends at the next tick, and the frames of one read are
   * several ticks apart. No frame waits for more input: the check phase comes right after the
   * I/O callbacks of the current turn.
   */
  private holdWritesForThisTurn(): void {
    const socket = this.res.socket;
    if (this.holding || !socket || socket.destroyed) {
      return;
    }
    this.holding = true;
    socket.cork();
    setImmediate(() => {
      // After end() the socket may already carry the connection's next response.
      if (this.holding) {
        this.holding = false;
        socket.uncork();
      }
    });
  }

  /** (Re)starts the silence timer; a keep-alive goes out only after keepAliveMs without a write. */
  private armKeepAlive(): void {
    if (!this.opened || this.res.writableEnded) {
      this.stopKeepAlive();
      return;
    }
    if (this.idleTimer) {
      // The same timer restarted: no new one per frame.
      this.idleTimer.refresh();
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
