/**
 * The SSE writer as Anthropic's clients expect it: a silent stream sends `event: ping` (the
 * SDK skips it; a bare comment would do for proxies, but Anthropic clients know ping), and a
 * failure after the 200 is an `event: error` with Anthropic's error body, which the SDK raises
 * as APIError. There is no `[DONE]`: message_stop ends a stream.
 */
import { SseWriter } from '../sse.ts';
import { toAnthropicError } from './errors.ts';
import { anthropicSse } from './stream.ts';

/** Writes one Messages stream over the shared SSE writer. */
export class AnthropicSseWriter extends SseWriter {
  protected override keepAliveFrame(): string {
    return anthropicSse({ type: 'ping' });
  }

  /** Ends the stream with an `error` event in Anthropic's shape. */
  override async fail(err: unknown): Promise<void> {
    await this.sendEvent('error', toAnthropicError(err).body);
    this.end();
  }
}
