/**
 * The OpenAI chat-completions request as this worker accepts it. Anything malformed becomes a 400
 * that names the offending field, in OpenAI's shape.
 */
import { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([
    z.string().min(1),
    z.object({ url: z.string().min(1), detail: z.string().optional() }),
  ]),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart]);

const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
  name: z.string().optional(),
});

export const chatCompletionRequest = z.object({
  model: z.string().min(1).default('gemini-default'),
  messages: z.array(message).min(1, 'messages must contain at least one message'),
  stream: z.boolean().optional().default(false),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  conversation_id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\w.-]+$/, 'conversation_id may hold only letters, digits, _ . -')
    .nullish(),
  files: z.array(z.string().min(1)).max(10).optional(),
  // Accepted for compatibility and ignored: Gemini web exposes no sampling controls.
  temperature: z.number().nullish(),
  top_p: z.number().nullish(),
  max_tokens: z.number().int().nullish(),
  max_completion_tokens: z.number().int().nullish(),
  n: z.literal(1).nullish(),
  user: z.string().nullish(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;
export type ChatMessage = z.infer<typeof message>;
export type ContentPart = z.infer<typeof contentPart>;

/** Validates a parsed JSON body, or throws a 400 naming the first bad field. */
export function parseChatRequest(body: unknown): ChatCompletionRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const result = chatCompletionRequest.safeParse(body);
  if (result.success) {
    return result.data;
  }
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') ?? null;
  const detail =
    issue?.code === 'invalid_value' && param?.endsWith('role')
      ? `Invalid role: must be one of system, developer, user, assistant, tool.`
      : (issue?.message ?? 'Invalid request.');
  throw new InvalidRequestError(`${param ? `${param}: ` : ''}${detail}`, {
    param,
    code: 'invalid_value',
  });
}

/** The text of a message's content; image parts are left out. */
export function messageText(content: ChatMessage['content']): string {
  if (content == null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .filter((p): p is z.infer<typeof textPart> => p.type === 'text')
    .map((p) => p.text)
    .join('\n');
}

/** Image references in a message (data URLs, http(s) URLs, or /upload paths). */
export function messageImages(content: ChatMessage['content']): string[] {
  if (content == null || typeof content === 'string') {
    return [];
  }
  return content
    .filter((p): p is z.infer<typeof imagePart> => p.type === 'image_url')
    .map((p) => (typeof p.image_url === 'string' ? p.image_url : p.image_url.url));
}
