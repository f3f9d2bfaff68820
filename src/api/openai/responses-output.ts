/**
 * Neutral answers -> OpenAI Responses API objects (openai v6 SDK, resources/responses): the
 * Response with its output items (an assistant message with output_text, function_call items),
 * usage, and status `incomplete` with `max_output_tokens` when the token limit cut it.
 */
import { randomBytes } from 'node:crypto';
import type {
  Response,
  ResponseFormatTextConfig,
  ResponseFunctionToolCall,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import type { AnswerSummary, FinishReason, ToolCall } from '../core/index.ts';
import type { ResponsesRequest } from './responses-request.ts';

/** Makes an id with a prefix (resp_, msg_, fc_); injectable so tests are deterministic. */
export type IdMaker = (prefix: string) => string;

/** Random ids in OpenAI's style. */
export const randomIds: IdMaker = (prefix) => `${prefix}${randomBytes(24).toString('hex')}`;

/** Token counts of one exchange. */
export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What every Response of one request shares. */
export interface ResponseBase {
  readonly id: string;
  readonly createdAt: number;
  readonly request: ResponsesRequest;
}

/** The Response as it looks before any output (response.created, response.in_progress). */
export function pendingResponse(base: ResponseBase): Response {
  const body = base.request.body;
  return {
    id: base.id,
    object: 'response',
    created_at: base.createdAt,
    status: 'in_progress',
    model: base.request.model,
    output: [],
    output_text: '',
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    metadata: body.metadata ?? null,
    parallel_tool_calls: base.request.turn.parallelToolCalls,
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    tool_choice: body.tool_choice ?? 'auto',
    tools: (body.tools ?? []) as Response['tools'],
    max_output_tokens: body.max_output_tokens ?? null,
    previous_response_id: base.request.previousResponseId,
    text: { format: (body.text?.format ?? { type: 'text' }) as ResponseFormatTextConfig },
    ...(body.user ? { user: body.user } : {}),
  };
}

/** The finished Response: output items, status and usage. */
export function completedResponse(
  base: ResponseBase,
  output: readonly ResponseOutputItem[],
  reason: FinishReason,
  usage: TokenUsage,
): Response {
  const incomplete = reason === 'length';
  return {
    ...pendingResponse(base),
    status: incomplete ? 'incomplete' : 'completed',
    ...(incomplete ? {} : { completed_at: Math.floor(Date.now() / 1000) }),
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    output: [...output],
    output_text: output
      .flatMap((item) => (item.type === 'message' ? item.content : []))
      .map((part) => (part.type === 'output_text' ? part.text : ''))
      .join(''),
    usage: responseUsage(usage),
  };
}

/** A whole (non-streamed) answer as a Response. */
export function responseFromSummary(
  base: ResponseBase,
  summary: AnswerSummary,
  usage: TokenUsage,
  ids: IdMaker = randomIds,
): Response {
  const status = summary.reason === 'length' ? 'incomplete' : 'completed';
  const output: ResponseOutputItem[] = [
    ...(summary.text === '' ? [] : [messageItem(ids('msg_'), summary.text, status)]),
    ...summary.calls.map((call) => functionCallItem(ids('fc_'), call, 'completed')),
  ];
  return completedResponse(base, output, summary.reason, usage);
}

/** An assistant message item holding one output_text part. */
export function messageItem(
  id: string,
  text: string,
  status: ResponseOutputMessage['status'],
): ResponseOutputMessage {
  return {
    id,
    type: 'message',
    role: 'assistant',
    status,
    content: text === '' && status === 'in_progress' ? [] : [outputText(text)],
  };
}

/** An output_text part. */
export function outputText(text: string): ResponseOutputMessage['content'][number] {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** A function_call output item; its call_id is the neutral call id. */
export function functionCallItem(
  id: string,
  call: Pick<ToolCall, 'id' | 'name'> & { arguments: string },
  status: NonNullable<ResponseFunctionToolCall['status']>,
): ResponseFunctionToolCall {
  return {
    id,
    type: 'function_call',
    call_id: call.id,
    name: call.name,
    arguments: call.arguments,
    status,
  };
}

function responseUsage(usage: TokenUsage): ResponseUsage {
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}
