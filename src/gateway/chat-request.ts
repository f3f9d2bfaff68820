/**
 * @module gateway/chat-request
 * What the gateway reads from a chat completion request: it forwards the bytes untouched and
 * only looks inside for `stream`, the messages, `conversation_id` and the uploaded files it names,
 * to route by affinity.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Dialect } from '../api/index.ts';
import { InvalidRequestError } from '../errors.ts';
import { continuesConversation, historyKeys, type KeyedMessage } from '../history-key.ts';
import { assertJsonDepth } from '../http/index.ts';
import { records } from './answer-tap.ts';
import { responsesHistory } from './responses-dialect.ts';

/** A parsed chat completion request. */
export interface ChatRequest {
  /** The body exactly as the client sent it. */
  readonly raw: Buffer;
  /** The client protocol: it picks the answer reader and the shape of the gateway's errors. */
  readonly dialect: Dialect;
  /** The model the request names (Google's is in the path), null when it names none. */
  readonly model: string | null;
  readonly stream: boolean;
  /** The worker path (and query) when it is not the route's own: Google's model paths. */
  readonly path?: string;
  /** OpenAI's Responses API, whose answers are read by their own tap (responses-dialect.ts). */
  readonly responses?: true;
  /** The history in OpenAI's message shape, as the history key is taken over it. */
  readonly messages: readonly KeyedMessage[];
  readonly conversationId: string | null;
  /**
   * Conversation binding keys the request carries, preferred first: its history key (the turn it
   * continues from, which a regenerate or an edit shares with the first try), its conversation_id.
   */
  readonly keys: readonly string[];
  /** The binding key of the next turn, once `answer` (and its calls) follows this history. */
  readonly keyAfter: (answer: string, toolCalls?: readonly unknown[]) => string;
  /** Binding keys of the uploaded files it names (`files`, image parts): they must go along. */
  readonly fileKeys: readonly string[];
}

/** The binding key of an uploaded file id (`uploads/<name>` or `<name>`, as the worker takes it). */
export const fileKey = (id: string): string => `file:${id.replace(/^uploads\//, '')}`;

/** The upload ids a request names: `files`, and image parts of its last message not data/http. */
function uploadRefs(fields: Record<string, unknown>, messages: readonly KeyedMessage[]): string[] {
  const files = Array.isArray(fields['files']) ? (fields['files'] as unknown[]) : [];
  return uploadIds([...files, ...imageUrls(messages.at(-1)?.content)]);
}

/** The upload ids a Responses `input` names: its items' image parts, not data/http. */
function inputUploadRefs(input: unknown): string[] {
  return uploadIds(records(input).flatMap((item) => imageUrls(item['content'])));
}

/** The image URLs of a message's parts (`image_url` as a string or as `{url}`). */
function imageUrls(content: unknown): unknown[] {
  return Array.isArray(content)
    ? (content as unknown[]).map((part) => {
        const url = (part as { image_url?: unknown } | null)?.image_url;
        return typeof url === 'object' && url !== null ? (url as { url?: unknown }).url : url;
      })
    : [];
}

function uploadIds(refs: readonly unknown[]): string[] {
  return refs.filter(
    (ref): ref is string =>
      typeof ref === 'string' && ref !== '' && !/^(data:|https?:\/\/)/i.test(ref),
  );
}

/**
 * The JSON object of a raw body; throws InvalidRequestError (400) for anything else, and for a
 * body nested too deep for the readers after it (whose 500 would fail over to every node).
 */
export function readJsonObject(raw: unknown): Record<string, unknown> {
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  assertJsonDepth(raw, 'The request body');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidRequestError('The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/**
 * The binding keys of a history (its history key once it continues a conversation, then the id),
 * and how to key the turn after its answer: both over one hashing of the history.
 */
export function conversationKeys(
  messages: readonly KeyedMessage[],
  conversationId: string | null = null,
): Pick<ChatRequest, 'keys' | 'keyAfter'> {
  const history = historyKeys(messages);
  const keys: string[] = [];
  // A history without an earlier answer (a new chat, maybe with a system prompt shared by many
  // chats) names no conversation, so it must not pin requests to one node.
  if (continuesConversation(messages)) {
    keys.push(history.key());
  }
  if (conversationId !== null) {
    keys.push(conversationId);
  }
  return { keys, keyAfter: history.keyAfter };
}

/** Parses the raw body; throws InvalidRequestError (400) unless it is a JSON object. */
export function parseChatRequest(raw: unknown): ChatRequest {
  const fields = readJsonObject(raw);
  // Shape errors beyond this are the worker's to report; the gateway only needs these fields.
  const messages = Array.isArray(fields['messages'])
    ? (fields['messages'] as unknown[]).filter(
        (m): m is KeyedMessage => typeof m === 'object' && m !== null,
      )
    : [];
  return chatRequestOf(raw, fields, messages, uploadRefs(fields, messages));
}

/**
 * A /v1/responses body: bound by the history its `input` resends (a stateless client's, as a
 * chat client's by its messages), by its previous_response_id (as a chat by its
 * conversation_id), and to the node holding the uploads `input` names as images.
 */
export function parseResponsesRequest(raw: unknown): ChatRequest {
  const fields = readJsonObject(raw);
  const messages = responsesHistory(fields);
  return {
    ...chatRequestOf(raw, fields, messages, inputUploadRefs(fields['input'])),
    responses: true,
  };
}

function chatRequestOf(
  raw: unknown,
  fields: Record<string, unknown>,
  messages: readonly KeyedMessage[],
  uploads: readonly string[],
): ChatRequest {
  // The Responses API continues a conversation by the id of its last response, which the worker
  // answered as x-conversation-id: the same binding.
  const id = fields['conversation_id'] ?? fields['previous_response_id'];
  const conversationId = typeof id === 'string' && id.trim() !== '' ? id : null;
  return {
    raw: raw as Buffer,
    dialect: 'openai',
    model:
      typeof fields['model'] === 'string' && fields['model'].trim() !== '' ? fields['model'] : null,
    stream: fields['stream'] === true,
    messages,
    conversationId,
    ...conversationKeys(messages, conversationId),
    fileKeys: uploads.map(fileKey),
  };
}

const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;
const PASSED_HEADERS = [
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'anthropic-version',
  'anthropic-beta',
  'accept',
  'accept-language',
  'user-agent',
] as const;

/** The client's request id when it is sane, else a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** Headers for the worker: the client's credentials and preferences, the request id, its address. */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  requestId: string,
  clientAddress: string | undefined,
): Record<string, string> {
  const out: Record<string, string> = {
    'content-type': 'application/json',
    'x-request-id': requestId,
  };
  for (const name of PASSED_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') {
      out[name] = value;
    }
  }
  const forwarded = [headers['x-forwarded-for'], clientAddress].filter(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  if (forwarded.length > 0) {
    out['x-forwarded-for'] = forwarded.join(', ');
  }
  // The worker builds image links from its Host (its `trust proxy` is off unless TRUST_PROXY
  // names the gateway), so the client's Host goes through: links point back at the gateway.
  if (typeof headers.host === 'string') {
    out['host'] = headers.host;
    out['x-forwarded-host'] = headers.host;
    out['x-forwarded-proto'] =
      typeof headers['x-forwarded-proto'] === 'string' ? headers['x-forwarded-proto'] : 'http';
  }
  return out;
}
