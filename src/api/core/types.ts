/**
 * The dialect-neutral shapes every client dialect (OpenAI chat and responses, Anthropic
 * messages, Google generateContent) translates into and out of. Nothing here knows a dialect.
 */

/** A function the model may call: name, description and a JSON schema for its arguments. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  /** JSON schema of the arguments object; `{type:'object'}` when the client gave none. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

/**
 * Which calls the answer must contain. `none` sends no tools at all; `required` wants at least
 * one call; `tool` wants a call to the named tool (OpenAI named function, Anthropic `tool`,
 * Google `ANY` with one allowed name).
 */
export type ToolChoice =
  | { readonly type: 'none' }
  | { readonly type: 'auto' }
  | { readonly type: 'required' }
  | { readonly type: 'tool'; readonly name: string };

/** One parsed call, as the dialects send it on: `arguments` is a JSON object as a string. */
export interface ToolCall {
  /** Deterministic: a hash of name, arguments and index, so a regenerated answer keeps it. */
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A part of a user message. Images are references: data: URLs, http(s) URLs or /upload paths. */
export type ContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image'; readonly url: string };

/** One message of a conversation in neutral form. */
export type TurnMessage =
  | { readonly role: 'system'; readonly text: string }
  | { readonly role: 'user'; readonly content: readonly ContentPart[] }
  | {
      readonly role: 'assistant';
      readonly text: string;
      readonly toolCalls: readonly ToolCall[];
    }
  | {
      readonly role: 'tool';
      readonly callId: string;
      /** Looked up from the assistant call with the same id when the dialect does not send it. */
      readonly name?: string;
      readonly content: string;
      readonly isError?: boolean;
    };

/** The output format a client asked for (OpenAI response_format, Google responseMimeType). */
export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly name: string;
      readonly schema: Readonly<Record<string, unknown>>;
      readonly description?: string;
    };

/** One request in neutral form: what a dialect's request translates into. */
export interface ChatTurn {
  readonly messages: readonly TurnMessage[];
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice: ToolChoice;
  /** false keeps only the first call of an answer. */
  readonly parallelToolCalls: boolean;
  readonly responseFormat: ResponseFormat;
  /** Stop sequences; the answer is cut before the earliest one. */
  readonly stop: readonly string[];
  /** Cut the answer after this many tokens (finish reason `length`); null = no limit. */
  readonly maxTokens: number | null;
}

/** Why an answer ended, in neutral words; each dialect maps them onto its own. */
export type FinishReason = 'stop' | 'stop_sequence' | 'length' | 'tool_calls';

/** The system instruction as the turn's first message; none when it is empty. */
export function systemMessages(text: string | null | undefined): TurnMessage[] {
  return text ? [{ role: 'system', text }] : [];
}

/** Defaults for the fields a dialect did not set. */
export const DEFAULT_TURN: Omit<ChatTurn, 'messages'> = {
  tools: [],
  toolChoice: { type: 'auto' },
  parallelToolCalls: true,
  responseFormat: { type: 'text' },
  stop: [],
  maxTokens: null,
};
