/**
 * @module api/core
 * The dialect-neutral core every client dialect (openai/, anthropic/, google/) translates onto:
 * the neutral turn, the prompt (history, the tool-call protocol, structured output), the answer
 * parsers (tool calls, streamed or whole), tool_choice and the one-re-ask rule, and the output
 * limits (stop sequences, max tokens, token counting). Pure: no I/O.
 */
export * from './types.ts';
export {
  joinPromptParts,
  renderHistory,
  renderPrompt,
  renderPromptParts,
  stripInstructionEcho,
} from './history.ts';
export type { PromptParts, RenderedPrompt, RenderOptions } from './history.ts';
export {
  CALL_INFO,
  RESULT_INFO,
  TOOLS_BEGIN,
  TOOLS_END,
  renderCall,
  renderToolPrompt,
  toolsForChoice,
} from './tool-prompt.ts';
export { callId, collectToolEvents, createToolCallParser, parseToolCalls } from './tool-calls.ts';
export type {
  CallProblem,
  DroppedCall,
  ParsedAnswer,
  ToolCallParser,
  ToolParseOptions,
  ToolStreamEvent,
} from './tool-calls.ts';
export {
  applyParallel,
  checkToolChoice,
  choiceReaskPrompt,
  choiceSatisfied,
  namedToolChoice,
  repairPrompt,
  unmetChoiceMessage,
} from './tool-choice.ts';
export type { ForcedChoiceWording } from './tool-choice.ts';
export {
  FORMAT_BEGIN,
  FORMAT_END,
  extractJson,
  parseStructured,
  renderFormatPrompt,
  structuredRepairPrompt,
  validateResponseFormat,
} from './structured.ts';
export type { StructuredResult } from './structured.ts';
export { StopSequenceCutter, TokenLimiter, findStop } from './limits.ts';
export type { LimitStep } from './limits.ts';
export { estimateTokens } from './tokens.ts';
export type { TokenCounter } from './tokens.ts';
export { AnswerStream, finishAnswer, summarize } from './answer-stream.ts';
export type { AnswerEvent, AnswerFinish, AnswerOptions, AnswerSummary } from './answer-stream.ts';
export { nextStep } from './follow-up.ts';
export type { FollowUp, FollowUpReason } from './follow-up.ts';
export { compileSchema } from './schema.ts';
export type { SchemaCheck, SchemaChecker } from './schema.ts';
export { decodeEntities, normalizeAnswer, unescapeMarkdown } from './markdown.ts';
