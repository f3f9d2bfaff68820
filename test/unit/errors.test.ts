import { describe, expect, it } from 'vitest';
import {
  AppError,
  RateLimitError,
  SHOULD_RETRY_HEADER,
  ServiceUnavailableError,
  UPSTREAM_SENT_HEADER,
  UpstreamOutcomeUnknownError,
  parseError,
  serializeError,
  toOpenAIError,
  type SerializedError,
} from '../../src/errors.ts';
import { GeminiError } from '../../src/gemini/index.ts';

describe('errors', () => {
  it('renders OpenAI error JSON with Retry-After for 429 and 503', () => {
    const r = toOpenAIError(new RateLimitError('slow down', 12.2));
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('13');
    expect(r.body).toEqual({
      error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limited' },
    });
    expect(toOpenAIError(new ServiceUnavailableError('x', 0.1)).headers['retry-after']).toBe('1');
  });

  it('hides unknown errors behind a generic 500', () => {
    const r = toOpenAIError(new Error('password=hunter2 at db'));
    expect(r.status).toBe(500);
    expect(JSON.stringify(r.body)).not.toContain('hunter2');
  });

  it('survives a trip across the queue', () => {
    const e = new GeminiError('quota', 'limit', { upstreamCode: 1037 }).withRetryAfter(3600);
    const back = parseError(JSON.parse(JSON.stringify(serializeError(e))) as SerializedError);
    expect(back).toBeInstanceOf(AppError);
    expect(back).toMatchObject({
      status: 429,
      type: 'rate_limit_error',
      code: 'usage_limit',
      retryAfterS: 3600,
      name: 'GeminiError',
    });
  });

  it('carries upstreamSent across the queue and says it in headers', () => {
    const cut = new UpstreamOutcomeUnknownError('stalled');
    const back = parseError(JSON.parse(JSON.stringify(serializeError(cut))) as SerializedError);
    expect(back).toMatchObject({
      status: 502,
      code: 'upstream_outcome_unknown',
      upstreamSent: true,
    });
    expect(toOpenAIError(back).headers).toMatchObject({
      [UPSTREAM_SENT_HEADER]: 'true',
      [SHOULD_RETRY_HEADER]: 'false',
    });
    const over = serializeError(new GeminiError('transient', 'x'), { upstreamSent: false });
    expect(toOpenAIError(parseError(over)).headers).toEqual({ [UPSTREAM_SENT_HEADER]: 'false' });
    expect(toOpenAIError(new RateLimitError('x', 1)).headers[UPSTREAM_SENT_HEADER]).toBeUndefined();
  });

  it('maps each failure class to its status', () => {
    expect(new GeminiError('auth', 'x').status).toBe(503);
    expect(new GeminiError('model', 'x').param).toBe('model');
    expect(new GeminiError('transient', 'x').status).toBe(502);
  });
});
