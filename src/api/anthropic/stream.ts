/**
 * Neutral answer events -> Anthropic's streamed event sequence, as @anthropic-ai/sdk's
 * MessageStream assembles it:
 *   message_start
 *   per block: content_block_start, content_block_delta… (thinking_delta, text_delta or
 *              input_json_delta), content_block_stop
 *   message_delta (stop_reason, stop_sequence, usage), message_stop
 * plus `ping` whenever the caller's timer finds the stream silent, and `error` for a failure
 * after the stream began. Pure: the route writes each event with `anthropicSse`.
 */
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { AnswerEvent } from '../core/index.ts';
import type { AnthropicErrorBody } from './errors.ts';
import {
  emptyMessage,
  messageUsage,
  stopReason,
  toolUseBlock,
  type MessageBase,
  type TokenUsage,
} from './message.ts';

/** Every event this writer emits. */
export type AnthropicStreamEvent = RawMessageStreamEvent | { type: 'ping' } | AnthropicErrorBody;

type OpenBlock = { kind: 'text' | 'thinking' } | { kind: 'tool_use'; callIndex: number };

/** One SSE frame: the event name, then its JSON. */
export function anthropicSse(event: AnthropicStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Translates one answer's events: `start` first, then `thought`/`push` (finish included). */
export class MessagesStreamWriter {
  private index = -1;
  private open: OpenBlock | null = null;

  constructor(
    private readonly base: MessageBase,
    private readonly inputTokens: number,
  ) {}

  /** message_start. */
  start(): AnthropicStreamEvent[] {
    return [{ type: 'message_start', message: emptyMessage(this.base, this.inputTokens) }];
  }

  /** A keep-alive for a silent stream; the SDK skips it. */
  ping(): AnthropicStreamEvent {
    return { type: 'ping' };
  }

  /** A delta of the model's thoughts, in a thinking block before the answer. */
  thought(delta: string): AnthropicStreamEvent[] {
    const opening = this.open?.kind === 'thinking' ? [] : this.openBlock({ kind: 'thinking' });
    return [
      ...opening,
      {
        type: 'content_block_delta',
        index: this.index,
        delta: { type: 'thinking_delta', thinking: delta },
      },
    ];
  }

  /** The events for one neutral event. */
  push(event: AnswerEvent): AnthropicStreamEvent[] {
    switch (event.type) {
      case 'text': {
        const opening = this.open?.kind === 'text' ? [] : this.openBlock({ kind: 'text' });
        return [
          ...opening,
          {
            type: 'content_block_delta',
            index: this.index,
            delta: { type: 'text_delta', text: event.text },
          },
        ];
      }
      case 'call_start':
        return this.openBlock({ kind: 'tool_use', callIndex: event.index }, event);
      case 'call_arguments':
        return this.isOpenCall(event.index)
          ? [
              {
                type: 'content_block_delta',
                index: this.index,
                delta: { type: 'input_json_delta', partial_json: event.delta },
              },
            ]
          : [];
      case 'call_end':
        return this.isOpenCall(event.index) ? this.closeBlock() : [];
      case 'finish':
        return [
          ...this.closeBlock(),
          ...this.finish(event.reason, event.stopSequence, event.outputTokens),
        ];
    }
  }

  /** An `error` event for a failure after the stream began (the SDK raises it). */
  error(body: AnthropicErrorBody): AnthropicStreamEvent[] {
    return [...this.closeBlock(), body];
  }

  private finish(
    reason: Parameters<typeof stopReason>[0],
    stopSequence: string | null,
    outputTokens: number,
  ): AnthropicStreamEvent[] {
    const usage: TokenUsage = { inputTokens: this.inputTokens, outputTokens };
    const { input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens } =
      messageUsage(usage);
    return [
      {
        type: 'message_delta',
        delta: {
          stop_reason: stopReason(reason),
          stop_sequence: stopSequence,
          container: null,
          stop_details: null,
        },
        usage: {
          input_tokens,
          output_tokens,
          cache_creation_input_tokens,
          cache_read_input_tokens,
          output_tokens_details: null,
          server_tool_use: null,
        },
      },
      { type: 'message_stop' },
    ];
  }

  private isOpenCall(callIndex: number): boolean {
    return this.open?.kind === 'tool_use' && this.open.callIndex === callIndex;
  }

  private openBlock(block: OpenBlock, call?: { id: string; name: string }): AnthropicStreamEvent[] {
    const closing = this.closeBlock();
    this.open = block;
    this.index += 1;
    const content_block =
      block.kind === 'text'
        ? { type: 'text' as const, text: '', citations: null }
        : block.kind === 'thinking'
          ? { type: 'thinking' as const, thinking: '', signature: '' }
          : toolUseBlock({ id: call?.id ?? '', name: call?.name ?? '' });
    return [...closing, { type: 'content_block_start', index: this.index, content_block }];
  }

  private closeBlock(): AnthropicStreamEvent[] {
    if (this.open === null) {
      return [];
    }
    this.open = null;
    return [{ type: 'content_block_stop', index: this.index }];
  }
}
