/**
 * Which client dialect a path speaks, and the error JSON each dialect's clients expect. The
 * worker and the gateway both answer every failure (a missing key and an unknown path included)
 * in the shape of the dialect the client spoke, so its SDK raises the right exception.
 */
import { toOpenAIError } from '../errors.ts';
import type { ErrorShaper } from '../http/index.ts';
import { toAnthropicError } from './anthropic/errors.ts';
import { toGoogleError } from './google/errors.ts';

/** The client protocols this service speaks. */
export type Dialect = 'openai' | 'anthropic' | 'google';

/** Every dialect, for metrics labels. */
export const DIALECTS: readonly Dialect[] = ['openai', 'anthropic', 'google'];

/** The dialect of a request path: /v1beta/* is Google's, /v1/messages* Anthropic's. */
export function dialectOf(anyCase: string): Dialect {
  // express routes paths whatever their case, so /v1/Messages reaches Anthropic's handler: its
  // errors before the handler (a missing key, bad JSON) must come in Anthropic's shape too.
  const path = anyCase.toLowerCase();
  if (path === '/v1beta' || path.startsWith('/v1beta/')) {
    return 'google';
  }
  if (path === '/v1/messages' || path.startsWith('/v1/messages/')) {
    return 'anthropic';
  }
  return 'openai';
}

const SHAPERS: Readonly<Record<Dialect, ErrorShaper>> = {
  openai: toOpenAIError,
  anthropic: toAnthropicError,
  google: toGoogleError,
};

/** The error renderer of a dialect. */
export function errorShaperOf(dialect: Dialect): ErrorShaper {
  return SHAPERS[dialect];
}

/** The error renderer for a request path, for errorHandler(). */
export function errorShaperFor(req: {
  readonly baseUrl: string;
  readonly path: string;
}): ErrorShaper {
  // baseUrl + path: the whole path even inside a router mounted under a prefix.
  return SHAPERS[dialectOf(`${req.baseUrl}${req.path}`)];
}
