/**
 * The /v1/responses request body as this service accepts it (zod), after the openai v6 SDK's
 * types (resources/responses). Unknown fields pass.
 */
import { z } from 'zod';
import { nestedJsonText } from '../request-body.ts';

const inputText = z.looseObject({
  type: z.enum(['input_text', 'output_text', 'text']),
  text: z.string(),
});
const inputImage = z.looseObject({
  type: z.literal('input_image'),
  image_url: z.string().min(1).nullish(),
  file_id: z.string().nullish(),
});
const refusal = z.looseObject({ type: z.literal('refusal'), refusal: z.string() });
const contentPart = z.discriminatedUnion('type', [inputText, inputImage, refusal]);
/** A message input item (also earlier assistant output). */
export const messageItem = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCallItem = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: nestedJsonText,
});
const functionOutputItem = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1),
  output: z.union([
    z.string(),
    z.array(z.looseObject({ type: z.string(), text: z.string().optional() })),
  ]),
});
const reasoningItem = z.looseObject({ type: z.literal('reasoning') });
const inputItem = z.union([functionCallItem, functionOutputItem, reasoningItem, messageItem]);
/** A function tool. */
export const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().regex(/^[\w.-]{1,128}$/, 'a tool name may hold only letters, digits, _ . -'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
});
/** tool_choice, as far as function tools go. */
export const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), name: z.string().min(1) }),
  z.looseObject({
    type: z.literal('allowed_tools'),
    mode: z.enum(['auto', 'required']),
    tools: z.array(z.looseObject({ type: z.literal('function'), name: z.string() })),
  }),
]);
/** text.format. */
export const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
  }),
]);

/** The request schema (unknown fields pass). */
export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1).default('gemini-default'),
  input: z.union([z.string(), z.array(inputItem).min(1, 'input must hold at least one item')]),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.looseObject({ format: textFormat.optional() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  user: z.string().nullish(),
});

/** The validated request as the service reads it. */
export type ResponsesRequestBody = z.infer<typeof responsesRequestSchema>;
