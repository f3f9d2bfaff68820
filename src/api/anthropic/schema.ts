/**
 * The POST /v1/messages body as this service accepts it (zod), after @anthropic-ai/sdk 1.x's
 * MessageCreateParams. Unknown fields and unknown block types pass the schema; the request
 * reader decides what it can honour.
 */
import { z } from 'zod';

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string() });
const imageSource = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('base64'),
    media_type: z.string().regex(/^image\//, 'media_type must be an image type'),
    data: z.string().min(1),
  }),
  z.looseObject({ type: z.literal('url'), url: z.string().url() }),
]);
const imageBlock = z.looseObject({ type: z.literal('image'), source: imageSource });
const toolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.unknown(),
});
const toolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z
    .union([
      z.string(),
      z.array(z.union([textBlock, imageBlock, z.looseObject({ type: z.string() })])),
    ])
    .optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.looseObject({ type: z.enum(['thinking', 'redacted_thinking']) });
/** A block of the blocks this service reads; other types are named in a 400. */
export const contentBlock = z.union([
  textBlock,
  imageBlock,
  toolUseBlock,
  toolResultBlock,
  thinkingBlock,
]);
/** Text, image, tool_use and tool_result blocks (parsed one at a time, for a precise 400). */
export type ContentBlock = z.infer<typeof contentBlock>;

const message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});
/** A tool as declared by the client; server tools (no input_schema) are named in a 400. */
export const customTool = z.looseObject({
  type: z.enum(['custom']).optional(),
  name: z.string().regex(/^[\w.-]{1,128}$/, 'a tool name may hold only letters, digits, _ . -'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});
const disableParallel = { disable_parallel_tool_use: z.boolean().optional() };
/** tool_choice. */
export const toolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), ...disableParallel }),
  z.looseObject({ type: z.literal('any'), ...disableParallel }),
  z.looseObject({ type: z.literal('tool'), name: z.string().min(1), ...disableParallel }),
  z.looseObject({ type: z.literal('none') }),
]);

const fields = {
  model: z.string().min(1),
  messages: z.array(message).min(1, 'messages must hold at least one message'),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  tools: z
    .array(z.looseObject({ name: z.string().optional(), type: z.string().optional() }))
    .optional(),
  tool_choice: toolChoice.optional(),
  output_config: z
    .looseObject({
      format: z
        .looseObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) })
        .nullish(),
    })
    .optional(),
};

/** The messages request (unknown fields pass). */
export const messagesRequestSchema = z.looseObject({
  ...fields,
  max_tokens: z.number().int().positive(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({}).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
  top_k: z.number().optional(),
});

/** The count_tokens request: the same as messages, without max_tokens. */
export const countTokensRequestSchema = z.looseObject(fields);

/** A validated messages request. */
export type MessagesRequestBody = z.infer<typeof messagesRequestSchema>;
/** A validated count_tokens request. */
export type CountTokensRequestBody = z.infer<typeof countTokensRequestSchema>;
