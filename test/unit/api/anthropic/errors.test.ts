import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import {
  anthropicKeyFrom,
  countMessageTokens,
  toAnthropicError,
} from '../../../../src/api/anthropic/index.ts';
import { InvalidRequestError, ModelNotFoundError, RateLimitError } from '../../../../src/errors.ts';
import { WEATHER, resolve, sdkAnswering } from './fixtures.ts';

describe('errors and count_tokens, read back by @anthropic-ai/sdk', () => {
  it('a 429 arrives as RateLimitError with retry-after; every account cooling is a 529', async () => {
    const limited = toAnthropicError(
      new RateLimitError('Account cooling down.', 1800, { code: 'account_cooling_down' }),
    );
    expect(limited).toEqual({
      status: 429,
      headers: { 'retry-after': '1800' },
      body: {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Account cooling down.' },
      },
    });
    const error = await sdkAnswering(limited.body, limited.status, limited.headers)
      .messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(
      (error as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after'),
    ).toBe('1800');
    const all = toAnthropicError(
      new RateLimitError('All cooling.', 600, { code: 'all_nodes_cooling' }),
    );
    expect(all).toMatchObject({
      status: 529,
      headers: { 'retry-after': '600' },
      body: { error: { type: 'overloaded_error' } },
    });
    const overloaded = await sdkAnswering(all.body, all.status, all.headers)
      .messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
  });

  it('maps every status onto its Anthropic type; unknown errors are a generic 500', () => {
    const typeOf = (status: number): [number, string] => {
      const e = toAnthropicError(Object.assign(new InvalidRequestError('x'), { status }));
      return [e.status, e.body.error.type];
    };
    expect([400, 401, 403, 404, 413, 415, 500, 502, 503, 504].map(typeOf)).toEqual([
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
      [413, 'request_too_large'],
      [415, 'invalid_request_error'],
      [500, 'api_error'],
      [502, 'api_error'],
      [503, 'api_error'],
      [504, 'timeout_error'],
    ]);
    const hidden = toAnthropicError(new Error('secret stack detail'));
    expect(hidden).toMatchObject({ status: 500, body: { error: { type: 'api_error' } } });
    expect(hidden.body.error.message).not.toContain('secret');
  });

  it('count_tokens counts the rendered prompt, tools and images included', async () => {
    const body = {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'How is the weather in Oslo today?' }],
    };
    const plain = countMessageTokens(body, resolve);
    const withTools = countMessageTokens({ ...body, tools: [WEATHER] }, resolve);
    const withImage = countMessageTokens(
      {
        ...body,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'x' },
              { type: 'image', source: { type: 'url', url: 'https://e.com/a.png' } },
            ],
          },
        ],
      },
      resolve,
    );
    expect(plain.input_tokens).toBeGreaterThan(5);
    expect(withTools.input_tokens).toBeGreaterThan(plain.input_tokens + 20);
    expect(withImage.input_tokens).toBeGreaterThanOrEqual(258);
    const counted = await sdkAnswering(withTools).messages.countTokens({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(counted).toEqual({ input_tokens: withTools.input_tokens });
    expect(() => countMessageTokens({ ...body, model: 'claude-nope' }, resolve)).toThrow(
      ModelNotFoundError,
    );
  });
});

describe('anthropicKeyFrom', () => {
  it('takes x-api-key first, then a Bearer token, else null', () => {
    expect(anthropicKeyFrom({ 'x-api-key': ' sk-1 ', authorization: 'Bearer sk-2' })).toBe('sk-1');
    expect(anthropicKeyFrom({ authorization: 'bearer sk-2' })).toBe('sk-2');
    expect(anthropicKeyFrom({ authorization: 'Basic abc' })).toBeNull();
    expect(anthropicKeyFrom({ 'x-api-key': '' })).toBeNull();
    expect(anthropicKeyFrom({})).toBeNull();
  });

  it('reads the header each SDK auth option sends', async () => {
    const keys: (string | null)[] = [];
    const capture = async (_: unknown, init?: RequestInit): Promise<Response> => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      keys.push(anthropicKeyFrom(headers));
      return Response.json({ input_tokens: 1 });
    };
    const params = { model: 'm', messages: [{ role: 'user' as const, content: 'x' }] };
    const options = { baseURL: 'http://emulated.invalid', maxRetries: 0, fetch: capture };
    await new Anthropic({ ...options, apiKey: 'sk-api' }).messages.countTokens(params);
    await new Anthropic({ ...options, apiKey: null, authToken: 'sk-token' }).messages.countTokens(
      params,
    );
    expect(keys).toEqual(['sk-api', 'sk-token']);
  });
});
