/**
 * The OpenAI chat-completions request as this worker accepts it (zod), after the openai v6 SDK's
 * types. Unknown fields pass and change nothing; anything malformed becomes a 400 that names the
 * offending field, in OpenAI's shape.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../../errors.ts';
import { nestedJsonText, requireJsonObject } from '../request-body.ts';

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.union([
    z.string().min(1),
    z.looseObject({ url: z.string().min(1), detail: z.string().optional() }),
  ]),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart]);
const content = z.union([z.string(), z.array(contentPart), z.null()]).optional();

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string().min(1), arguments: nestedJsonText }),
});

const message = z.discriminatedUnion('role', [
  z.looseObject({
    role: z.enum(['system', 'developer', 'user']),
    content,
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('assistant'),
    content,
    tool_calls: z.array(toolCall).nullish(),
  }),
  z.looseObject({ role: z.literal('tool'), tool_call_id: z.string().min(1), content }),
]);

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(/^[\w.-]{1,128}$/, 'a tool name may hold only letters, digits, _ . -'),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({
    type: z.literal('function'),
    function: z.looseObject({ name: z.string().min(1) }),
  }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
    }),
  }),
]);

const tokenLimit = z.number().int().positive().nullish();

/** The request schema; temperature, top_p, seed, user, penalties, logprobs… pass as unknown fields. */
export const chatCompletionRequest = z.looseObject({
  model: z.string().min(1).default('gemini-default'),
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  conversation_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w.-]+$/, 'conversation_id may hold only letters, digits, _ . -')
    .nullish(),
  files: z.array(z.string().min(1)).max(10).optional(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4, 'stop holds at most 4 sequences')])
    .nullish(),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  n: z.number().int().positive().nullish(),
});

/** The validated request. */
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;
/** One validated message. */
export type ChatMessage = z.infer<typeof message>;

/** The function tool schema, for a per-tool 400. */
export const chatFunctionTool = functionTool;

/** Validates a parsed JSON body, or throws a 400 naming the first bad field. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  const result = chatCompletionRequest.safeParse(requireJsonObject(body));
  if (!result.success) {
    throw zodError(result.error);
  }
  if ((result.data.n ?? 1) > 1) {
    throw new InvalidRequestError(
      'n: only n=1 is supported; Gemini web gives one answer per prompt.',
      { param: 'n', code: 'unsupported_value' },
    );
  }
  return result.data;
}

/** The first zod issue as OpenAI's 400. */
export function zodError(error: z.ZodError): InvalidRequestError {
  const issue = error.issues[0];
  const param = issue?.path.map(String).join('.') ?? null;
  const detail = /^messages\.\d+\.role$/.test(param ?? '')
    ? 'Invalid role: must be one of system, developer, user, assistant, tool.'
    : (issue?.message ?? 'Invalid request.');
  return new InvalidRequestError(`${param ? `${param}: ` : ''}${detail}`, {
    param,
    code: 'invalid_value',
  });
}
