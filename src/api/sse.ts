/**
 * Server-sent events for chat completions. Headers follow hono's streamSSE; errors after the 200
 * go out as an OpenAI-shaped `data: {"error":…}` event, which the official SDKs raise as APIError,
 * followed by `data: [DONE]`. Once committed, a silent stream (a thinking model, an image
 * download) sends a `: keep-alive` comment every keepAliveMs so proxies in front do not cut it.
 */
import { toOpenAIError } from '../errors.ts';
import { StreamWriter } from './stream-writer.ts';

/** Writes one SSE response; every write respects backpressure. */
export class SseWriter extends StreamWriter {
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
    this.close();
  }

  /** Ends the stream with `data: [DONE]`, as OpenAI's chat and completions streams end. */
  async done(): Promise<void> {
    this.close('data: [DONE]\n\n');
  }

  protected contentType(): string {
    return 'text/event-stream';
  }

  /** What a silent stream sends; a dialect whose clients expect an event overrides it. */
  protected keepAliveFrame(): string {
    return ': keep-alive\n\n';
  }
}
