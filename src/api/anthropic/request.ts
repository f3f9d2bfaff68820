/**
 * POST /v1/messages (and count_tokens) body -> the neutral turn. `system` as a string or text
 * blocks; user content as text, base64 or URL images, and tool_result blocks (their images
 * follow as a user message, since a tool result is text); assistant history with text and
 * tool_use blocks (ids kept, so tool_result blocks find their calls); thinking blocks are
 * skipped. Anything this service cannot honour (server tools, documents) is a 400 naming it.
 */
import type { MessageTokensCount } from '@anthropic-ai/sdk/resources/messages';
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
  type ToolChoice,
  type ToolDefinition,
  type TurnMessage,
} from '../core/index.ts';
import { countPromptTokens } from '../prompt-tokens.ts';
import { parseRequestBody } from '../request-body.ts';
import {
  contentBlock,
  countTokensRequestSchema,
  customTool,
  messagesRequestSchema,
  type ContentBlock,
  type CountTokensRequestBody,
  type MessagesRequestBody,
  type toolChoice,
} from './schema.ts';

/** Maps a client's model name (a claude-* name, or one of ours) onto the Gemini model to use. */
export type ModelResolver = (name: string) => string;

/** A /v1/messages request in neutral form. */
export interface MessagesRequest {
  /** The name the client sent; the Message echoes it back. */
  readonly requestedModel: string;
  /** The Gemini model it resolved to. */
  readonly model: string;
  readonly turn: ChatTurn;
  readonly stream: boolean;
  readonly body: MessagesRequestBody;
}

/** Validates and translates a parsed JSON body; throws a 400 naming the bad field. */
export function parseMessagesRequest(
  raw: unknown,
  resolveModel: ModelResolver = (name) => name,
): MessagesRequest {
  const body = parseRequestBody(messagesRequestSchema, raw);
  return {
    requestedModel: body.model,
    model: resolveModel(body.model),
    turn: {
      ...readTurn(body),
      stop: body.stop_sequences ?? [],
      maxTokens: body.max_tokens,
    },
    stream: body.stream ?? false,
    body,
  };
}

/**
 * POST /v1/messages/count_tokens: the tokens of the prompt this request would send (the body to
 * answer with). The model is resolved too, so an unknown one fails as it would on /v1/messages.
 */
export function countMessageTokens(
  raw: unknown,
  resolveModel: ModelResolver = (name) => name,
): MessageTokensCount {
  const body = parseRequestBody(countTokensRequestSchema, raw);
  resolveModel(body.model);
  return { input_tokens: countPromptTokens(readTurn(body)) };
}

function readTurn(body: CountTokensRequestBody): ChatTurn {
  const tools = (body.tools ?? []).map(readTool);
  const responseFormat: ResponseFormat = body.output_config?.format
    ? { type: 'json_schema', name: 'output', schema: body.output_config.format.schema }
    : { type: 'text' };
  validateResponseFormat(responseFormat);
  const system =
    typeof body.system === 'string'
      ? body.system
      : (body.system ?? []).map((b) => b.text).join('\n');
  const choice = body.tool_choice;
  return {
    ...DEFAULT_TURN,
    messages: [
      ...systemMessages(system),
      ...body.messages.flatMap((m, i) => readMessage(m.role, m.content, i)),
    ],
    tools,
    toolChoice: readChoice(choice, tools),
    parallelToolCalls: !(
      choice &&
      'disable_parallel_tool_use' in choice &&
      choice.disable_parallel_tool_use
    ),
    responseFormat,
  };
}

function readTool(tool: unknown, index: number): ToolDefinition {
  const parsed = customTool.safeParse(tool);
  if (!parsed.success) {
    const type = (tool as { type?: unknown }).type;
    const detail =
      typeof type === 'string' && type !== 'custom'
        ? `tools of type '${type}' are not supported; only custom tools with an input_schema are`
        : (parsed.error.issues[0]?.message ?? 'invalid tool');
    throw new InvalidRequestError(`tools.${index}: ${detail}`, { param: `tools.${index}` });
  }
  return {
    name: parsed.data.name,
    description: parsed.data.description ?? '',
    parameters: parsed.data.input_schema,
  };
}

function readChoice(
  choice: z.infer<typeof toolChoice> | undefined,
  tools: readonly ToolDefinition[],
): ToolChoice {
  if (choice === undefined || choice.type === 'auto') {
    return { type: 'auto' };
  }
  if (choice.type === 'none') {
    return { type: 'none' };
  }
  if (choice.type === 'any') {
    return checkToolChoice({ type: 'required' }, tools, {
      param: 'tool_choice',
      message: "tool_choice.type 'any' needs at least one tool to call, but no tools were given.",
    });
  }
  return namedToolChoice(choice.name, tools);
}

function readMessage(
  role: 'user' | 'assistant' | 'system',
  content: string | readonly unknown[],
  index: number,
): TurnMessage[] {
  const blocks =
    typeof content === 'string'
      ? [{ type: 'text' as const, text: content }]
      : content.map((b, j) => readBlock(b, `messages.${index}.content.${j}`));
  if (role === 'system') {
    return [{ role: 'system', text: textOf(blocks) }];
  }
  if (role === 'assistant') {
    const toolCalls = blocks.flatMap((b) =>
      b.type === 'tool_use'
        ? [{ id: b.id, name: b.name, arguments: JSON.stringify(b.input ?? {}) }]
        : [],
    );
    // An answer's text blocks are one text cut by its calls: joined as they were streamed, so
    // the resent history matches the stored answer (its history key) and continues natively.
    return [{ role: 'assistant', text: textOf(blocks, ''), toolCalls }];
  }
  return userMessages(blocks, `messages.${index}.content`);
}

/** tool_result blocks become tool messages; the other parts (and result images) a user message. */
function userMessages(blocks: readonly ContentBlock[], param: string): TurnMessage[] {
  const out: TurnMessage[] = [];
  let parts: ContentPart[] = [];
  const flush = (): void => {
    if (parts.length > 0) {
      out.push({ role: 'user', content: parts });
      parts = [];
    }
  };
  const resultImages: ContentPart[] = [];
  blocks.forEach((block, j) => {
    if (block.type === 'tool_result') {
      flush();
      const inner =
        typeof block.content === 'string'
          ? [{ type: 'text' as const, text: block.content }]
          : (block.content ?? []).map((b, k) => readBlock(b, `${param}.${j}.content.${k}`));
      resultImages.push(...inner.flatMap(partOf).filter((p) => p.type === 'image'));
      out.push({
        role: 'tool',
        callId: block.tool_use_id,
        content: textOf(inner),
        ...(block.is_error ? { isError: true } : {}),
      });
    } else {
      parts.push(...partOf(block));
    }
  });
  parts.push(...resultImages);
  flush();
  return out;
}

function partOf(block: ContentBlock): ContentPart[] {
  if (block.type === 'text') {
    return [{ type: 'text', text: block.text }];
  }
  if (block.type === 'image') {
    const source = block.source;
    return [
      {
        type: 'image',
        url: source.type === 'url' ? source.url : `data:${source.media_type};base64,${source.data}`,
      },
    ];
  }
  return [];
}

function readBlock(block: unknown, param: string): ContentBlock {
  const parsed = contentBlock.safeParse(block);
  if (parsed.success) {
    return parsed.data;
  }
  const type = (block as { type?: unknown }).type;
  const known = ['text', 'image', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking'];
  const issue = parsed.error.issues[0];
  // A union's issue has no path of its own: then the block's type says what is wrong.
  const detail =
    typeof type === 'string' && !known.includes(type)
      ? `content of type '${type}' is not supported`
      : issue?.path.length
        ? `${issue.path.join('.')}: ${issue.message}`
        : `not a valid '${String(type)}' block`;
  throw new InvalidRequestError(`${param}: ${detail}`, { param });
}

function textOf(blocks: readonly { type: string; text?: unknown }[], separator = '\n'): string {
  return blocks
    .flatMap((b) => (b.type === 'text' && typeof b.text === 'string' ? [b.text] : []))
    .join(separator);
}
