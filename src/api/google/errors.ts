/**
 * The error model in Google's shape, `{error:{code, message, status}}`, with Google's status
 * strings. A Retry-After also goes in as a RetryInfo detail, which gemini-cli reads.
 * The key comes as `?key=`, `x-goog-api-key` (the SDK's default) or a Bearer token.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { toAppError, toOpenAIError } from '../../errors.ts';
import type { GoogleErrorBody } from './wire.ts';

const STATUS_BY_CODE: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/** Status, headers (Retry-After kept) and body for an HTTP response carrying this error. */
export function toGoogleError(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: GoogleErrorBody;
} {
  const e = toAppError(err);
  const { headers } = toOpenAIError(e);
  const retryAfter = headers['retry-after'];
  const status = STATUS_BY_CODE[e.status] ?? (e.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  return {
    status: e.status,
    headers,
    body: {
      error: {
        code: e.status,
        message: e.message,
        status,
        ...(retryAfter === undefined
          ? {}
          : {
              details: [
                {
                  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
                  retryDelay: `${retryAfter}s`,
                },
              ],
            }),
      },
    },
  };
}

/** The API key of a request: `?key=`, else `x-goog-api-key`, else a Bearer token; null if none. */
export function googleKeyFrom(req: {
  readonly url?: string;
  readonly headers: IncomingHttpHeaders;
}): string | null {
  const query = new URL(req.url ?? '/', 'http://local.invalid').searchParams.get('key');
  if (query !== null && query.trim() !== '') {
    return query.trim();
  }
  const header = req.headers['x-goog-api-key'];
  if (typeof header === 'string' && header.trim() !== '') {
    return header.trim();
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1] ?? null;
}
