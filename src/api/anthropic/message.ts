/**
 * Neutral answers -> Anthropic Message objects (@anthropic-ai/sdk 1.x, resources/messages): an
 * optional thinking block, then text blocks and one tool_use block per call (the neutral call
 * id, arguments parsed into an `input` object), the stop reason and usage.
 */
import { randomBytes } from 'node:crypto';
import type {
  ContentBlock,
  Message,
  StopReason,
  ToolUseBlock,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import {
  summarize,
  type AnswerEvent,
  type AnswerSummary,
  type FinishReason,
  type ToolCall,
} from '../core/index.ts';

/** Token counts of one exchange. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What every Message of one request shares: its id and the model name the client sent. */
export interface MessageBase {
  readonly id: string;
  readonly model: string;
}

/** A new Message id in Anthropic's style. */
export function messageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

/** The neutral finish reason in Anthropic's words. */
export function stopReason(reason: FinishReason): StopReason {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
  }
}

/**
 * A whole (non-streamed) answer as a Message, from the pipeline's events (finish included), so
 * blocks keep their order (text after a call is its own block) exactly as the stream has them.
 * `thoughts` become a thinking block first.
 */
export function messageFromEvents(
  base: MessageBase,
  events: readonly AnswerEvent[],
  usage: TokenUsage,
  thoughts = '',
): Message {
  const content: ContentBlock[] = thoughts === '' ? [] : [thinkingBlock(thoughts)];
  for (const event of events) {
    const last = content.at(-1);
    if (event.type === 'text' && last?.type === 'text') {
      last.text += event.text;
    } else if (event.type === 'text') {
      content.push({ type: 'text', text: event.text, citations: null });
    } else if (event.type === 'call_end') {
      content.push(toolUseBlock(event.call));
    }
  }
  return finishedMessage(base, content, summarize(events), usage);
}

/** A whole answer as a Message from its summary: thinking, then all text, then the calls. */
export function messageFromSummary(
  base: MessageBase,
  summary: AnswerSummary,
  usage: TokenUsage,
  thoughts = '',
): Message {
  const content: ContentBlock[] = [
    ...(thoughts === '' ? [] : [thinkingBlock(thoughts)]),
    ...(summary.text === ''
      ? []
      : [{ type: 'text' as const, text: summary.text, citations: null }]),
    ...summary.calls.map((call) => toolUseBlock(call)),
  ];
  return finishedMessage(base, content, summary, usage);
}

function finishedMessage(
  base: MessageBase,
  content: ContentBlock[],
  finish: Pick<AnswerSummary, 'reason' | 'stopSequence'>,
  usage: TokenUsage,
): Message {
  return {
    ...emptyMessage(base, usage.inputTokens),
    content,
    stop_reason: stopReason(finish.reason),
    stop_sequence: finish.stopSequence,
    usage: messageUsage(usage),
  };
}

function thinkingBlock(thinking: string): ContentBlock {
  return { type: 'thinking', thinking, signature: '' };
}

/** The Message as message_start carries it: no content, no stop reason yet. */
export function emptyMessage(base: MessageBase, inputTokens: number): Message {
  return {
    id: base.id,
    type: 'message',
    role: 'assistant',
    model: base.model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: messageUsage({ inputTokens, outputTokens: 0 }),
  };
}

/** A tool_use block; `input` is the parsed arguments object (empty while streaming). */
export function toolUseBlock(
  call: Pick<ToolCall, 'id' | 'name'> & { arguments?: string },
): ToolUseBlock {
  return {
    type: 'tool_use',
    id: call.id,
    name: call.name,
    input: call.arguments === undefined ? {} : (JSON.parse(call.arguments) as unknown),
    caller: { type: 'direct' },
  };
}

/** Usage with every field the SDK types declare. */
export function messageUsage(usage: TokenUsage): Usage {
  return {
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
    cache_creation: null,
    inference_geo: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    speed: null,
  };
}
