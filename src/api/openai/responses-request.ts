/**
 * POST /v1/responses request -> the neutral turn. Shapes follow the openai v6 SDK
 * (resources/responses): `input` as a string or items (messages, earlier assistant output,
 * function_call and function_call_output), `instructions`, function tools, `tool_choice`,
 * `text.format`, `max_output_tokens`, `previous_response_id`. Unknown fields pass; features
 * this service cannot honour (other tool types, files, item references) are a clear 400.
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../../errors.ts';
import {
  DEFAULT_TURN,
  checkToolChoice,
  namedToolChoice,
  systemMessages,
  validateResponseFormat,
  type ChatTurn,
  type ContentPart,
  type ResponseFormat,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
  type TurnMessage,
} from '../core/index.ts';
import { parseRequestBody, requireJsonObject } from '../request-body.ts';
import {
  functionTool,
  responsesRequestSchema,
  type messageItem,
  type ResponsesRequestBody,
  type textFormat,
  type toolChoice,
} from './responses-schema.ts';
import { REQUIRED_WITHOUT_TOOLS, readFunctionTools } from './function-tools.ts';

/** A /v1/responses request in neutral form, with what the Response object echoes back. */
export interface ResponsesRequest {
  readonly model: string;
  readonly turn: ChatTurn;
  readonly stream: boolean;
  readonly previousResponseId: string | null;
  readonly body: ResponsesRequestBody;
}

/** Validates and translates a parsed JSON body; throws a 400 naming the bad field. */
export function parseResponsesRequest(raw: unknown): ResponsesRequest {
  rejectUnsupportedItems(requireJsonObject(raw));
  const body = parseRequestBody(responsesRequestSchema, raw);
  const tools = readFunctionTools(body.tools ?? [], functionTool, (t) => t);
  const responseFormat = readFormat(body.text?.format);
  validateResponseFormat(responseFormat);
  const turn: ChatTurn = {
    ...DEFAULT_TURN,
    messages: [...systemMessages(body.instructions), ...readInput(body.input)],
    tools,
    toolChoice: readChoice(body.tool_choice, tools),
    parallelToolCalls: body.parallel_tool_calls ?? true,
    responseFormat,
    maxTokens: body.max_output_tokens ?? null,
  };
  return {
    model: body.model,
    turn,
    stream: body.stream ?? false,
    previousResponseId: body.previous_response_id ?? null,
    body,
  };
}

const ITEM_TYPES = new Set(['message', 'function_call', 'function_call_output', 'reasoning']);
const PART_TYPES = new Set(['input_text', 'output_text', 'text', 'input_image', 'refusal']);

/** Names the first input item or content part this service cannot take, as a 400. */
function rejectUnsupportedItems(raw: object): void {
  const input = (raw as { input?: unknown }).input;
  if (!Array.isArray(input)) {
    return;
  }
  input.forEach((item: unknown, i) => {
    const { type, content } = (item ?? {}) as { type?: unknown; content?: unknown };
    if (typeof type === 'string' && !ITEM_TYPES.has(type)) {
      throw new InvalidRequestError(`input[${i}]: items of type '${type}' are not supported.`, {
        param: `input[${i}]`,
      });
    }
    (Array.isArray(content) ? content : []).forEach((part: unknown, p) => {
      const partType = (part as { type?: unknown } | null)?.type;
      if (typeof partType === 'string' && !PART_TYPES.has(partType)) {
        throw new InvalidRequestError(
          `input[${i}].content[${p}]: content of type '${partType}' is not supported.`,
          { param: `input[${i}].content[${p}]` },
        );
      }
    });
  });
}

function readChoice(
  choice: z.infer<typeof toolChoice> | undefined,
  tools: readonly ToolDefinition[],
): ToolChoice {
  if (choice === undefined || choice === 'auto') {
    return { type: 'auto' };
  }
  if (typeof choice === 'string') {
    return checkToolChoice({ type: choice }, tools, REQUIRED_WITHOUT_TOOLS);
  }
  if (choice.type === 'function') {
    return namedToolChoice(choice.name, tools);
  }
  // allowed_tools: each name must be declared; `required` over one of them demands that call.
  const allowed = choice.tools.map((t) => namedToolChoice(t.name, tools));
  if (choice.mode === 'auto') {
    return { type: 'auto' };
  }
  if (allowed.length === 0) {
    throw new InvalidRequestError(
      "tool_choice.mode 'required' needs at least one tool to call, but tool_choice.tools is empty.",
      { param: 'tool_choice.tools' },
    );
  }
  return allowed.length === 1
    ? allowed[0]!
    : checkToolChoice({ type: 'required' }, tools, REQUIRED_WITHOUT_TOOLS);
}

function readFormat(format: z.infer<typeof textFormat> | undefined): ResponseFormat {
  if (format === undefined || format.type === 'text') {
    return { type: 'text' };
  }
  if (format.type === 'json_object') {
    return { type: 'json_object' };
  }
  return {
    type: 'json_schema',
    name: format.name,
    schema: format.schema,
    ...(format.description ? { description: format.description } : {}),
  };
}

/**
 * Items -> messages. One answer's items are one assistant turn, as it was stored: function_call
 * items join the assistant message before them, and an assistant message after a call continues
 * that turn's text with nothing between (a streamed answer puts text written after a call in a
 * message item of its own), so a resent streamed or whole answer keys and continues alike.
 */
function readInput(input: ResponsesRequestBody['input']): TurnMessage[] {
  if (typeof input === 'string') {
    return [{ role: 'user', content: [{ type: 'text', text: input }] }];
  }
  const messages: TurnMessage[] = [];
  input.forEach((item, i) => {
    if (item.type === 'reasoning') {
      return;
    }
    if (item.type === 'function_call') {
      const call: ToolCall = { id: item.call_id, name: item.name, arguments: item.arguments };
      const last = messages.at(-1);
      if (last?.role === 'assistant') {
        messages[messages.length - 1] = { ...last, toolCalls: [...last.toolCalls, call] };
      } else {
        messages.push({ role: 'assistant', text: '', toolCalls: [call] });
      }
    } else if (item.type === 'function_call_output') {
      const content =
        typeof item.output === 'string'
          ? item.output
          : item.output.map((p) => p.text ?? '').join('\n');
      messages.push({ role: 'tool', callId: item.call_id, content });
    } else {
      const message = readMessage(item, i);
      const last = messages.at(-1);
      if (message.role === 'assistant' && last?.role === 'assistant' && last.toolCalls.length > 0) {
        messages[messages.length - 1] = { ...last, text: last.text + message.text };
      } else {
        messages.push(message);
      }
    }
  });
  return messages;
}

function readMessage(item: z.infer<typeof messageItem>, index: number): TurnMessage {
  const parts: ContentPart[] =
    typeof item.content === 'string'
      ? [{ type: 'text', text: item.content }]
      : item.content.map((part, p): ContentPart => {
          if (part.type === 'refusal') {
            return { type: 'text', text: part.refusal };
          }
          if (part.type !== 'input_image') {
            return { type: 'text', text: part.text };
          }
          if (!part.image_url) {
            throw new InvalidRequestError(
              'input_image needs an image_url (a URL or a data: URL); file_id is not supported.',
              {
                param: `input[${index}].content[${p}]`,
              },
            );
          }
          return { type: 'image', url: part.image_url };
        });
  const text = parts.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join('\n');
  if (item.role === 'system' || item.role === 'developer') {
    return { role: 'system', text };
  }
  return item.role === 'assistant'
    ? { role: 'assistant', text, toolCalls: [] }
    : { role: 'user', content: parts };
}
