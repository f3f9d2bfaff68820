/**
 * The error model in Anthropic's shape, `{type:"error", error:{type, message}}`, with its
 * status mapping. A 429 from the gateway when every account cools down (`all_nodes_cooling`)
 * becomes 529 overloaded_error, as Anthropic says when it has no capacity; Retry-After is kept.
 * The key comes as `x-api-key` (the SDK's default) or a Bearer token (`authToken`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { toAppError, toOpenAIError } from '../../errors.ts';

/** Anthropic's error body. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

/** The error's code when every account of the pool is cooling down. */
export const ALL_COOLING_CODE = 'all_nodes_cooling';

const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Status, headers (Retry-After kept) and body for an HTTP response carrying this error. */
export function toAnthropicError(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: AnthropicErrorBody;
} {
  const e = toAppError(err);
  const { headers } = toOpenAIError(e);
  const status = e.status === 429 && e.code === ALL_COOLING_CODE ? 529 : e.status;
  const type = TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { status, headers, body: { type: 'error', error: { type, message: e.message } } };
}

/** The API key of a request: `x-api-key`, else a Bearer token; null when neither is there. */
export function anthropicKeyFrom(headers: IncomingHttpHeaders): string | null {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') {
    return apiKey.trim();
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return bearer?.[1] ?? null;
}
