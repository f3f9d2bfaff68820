/**
 * @module api/anthropic
 * Anthropic's Messages API over the neutral core: request -> ChatTurn, answers -> Message
 * objects and the streamed event sequence, errors in Anthropic's shape, count_tokens, and
 * where the key comes from. The translation files are pure; messages-route.ts does the I/O.
 */
export { countTokensHandler, messagesHandler } from './messages-route.ts';
export { AnthropicSseWriter } from './sse-writer.ts';
export { countMessageTokens, parseMessagesRequest } from './request.ts';
export type { MessagesRequest, ModelResolver } from './request.ts';
export { createModelResolver } from './models.ts';
export {
  emptyMessage,
  messageFromEvents,
  messageFromSummary,
  messageId,
  stopReason,
} from './message.ts';
export type { MessageBase, TokenUsage } from './message.ts';
export { anthropicSse, MessagesStreamWriter } from './stream.ts';
export type { AnthropicStreamEvent } from './stream.ts';
export { ALL_COOLING_CODE, anthropicKeyFrom, toAnthropicError } from './errors.ts';
export type { AnthropicErrorBody } from './errors.ts';
