/**
 * A chat-completions request -> the neutral turn: messages (developer counts as system; tool
 * results and assistant tool calls kept), function tools, tool_choice, parallel_tool_calls,
 * response_format, stop, max_tokens / max_completion_tokens. Sampling fields are not read.
 */
import {
  DEFAULT_TURN,
  checkToolChoice,
  namedToolChoice,
  validateResponseFormat,
  type ChatTurn,
  type ContentPart,
  type ResponseFormat,
  type ToolChoice,
  type ToolDefinition,
  type TurnMessage,
} from '../core/index.ts';
import { REQUIRED_WITHOUT_TOOLS, readFunctionTools } from './function-tools.ts';
import { chatFunctionTool, type ChatCompletionRequest, type ChatMessage } from './chat-schema.ts';

/** Translates a validated request; throws a 400 for tools or formats it cannot honour. */
export function chatTurnOf(body: ChatCompletionRequest): ChatTurn {
  const tools = readFunctionTools(body.tools ?? [], chatFunctionTool, (t) => t.function);
  const responseFormat = readFormat(body.response_format);
  validateResponseFormat(responseFormat);
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    ...DEFAULT_TURN,
    messages: body.messages.map(readMessage),
    tools,
    toolChoice: readChoice(body.tool_choice, tools),
    parallelToolCalls: body.parallel_tool_calls ?? true,
    responseFormat,
    stop: stop.filter((s) => s !== ''),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? null,
  };
}

/** Text parts joined by newlines; image parts become image references. */
export function contentParts(content: ChatMessage['content']): ContentPart[] {
  if (content == null) {
    return [];
  }
  if (typeof content === 'string') {
    return [{ type: 'text', text: content }];
  }
  return content.map((p) =>
    p.type === 'text'
      ? { type: 'text', text: p.text }
      : { type: 'image', url: typeof p.image_url === 'string' ? p.image_url : p.image_url.url },
  );
}

function textOf(content: ChatMessage['content']): string {
  return contentParts(content)
    .flatMap((p) => (p.type === 'text' ? [p.text] : []))
    .join('\n');
}

function readMessage(m: ChatMessage): TurnMessage {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', text: textOf(m.content) };
    case 'user':
      return { role: 'user', content: contentParts(m.content) };
    case 'assistant':
      return {
        role: 'assistant',
        text: textOf(m.content),
        toolCalls: (m.tool_calls ?? []).map((c) => ({
          id: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      };
    case 'tool':
      return { role: 'tool', callId: m.tool_call_id, content: textOf(m.content) };
  }
}

function readChoice(
  choice: ChatCompletionRequest['tool_choice'],
  tools: readonly ToolDefinition[],
): ToolChoice {
  if (choice == null) {
    return { type: 'auto' };
  }
  if (typeof choice === 'string') {
    return checkToolChoice({ type: choice }, tools, REQUIRED_WITHOUT_TOOLS);
  }
  return namedToolChoice(choice.function.name, tools);
}

function readFormat(format: ChatCompletionRequest['response_format']): ResponseFormat {
  if (format == null || format.type === 'text') {
    return { type: 'text' };
  }
  if (format.type === 'json_object') {
    return { type: 'json_object' };
  }
  const spec = format.json_schema;
  return {
    type: 'json_schema',
    name: spec.name,
    schema: spec.schema ?? { type: 'object' },
    ...(spec.description ? { description: spec.description } : {}),
  };
}
