import { describe, expect, it } from 'vitest';
import {
  countGoogleTokens,
  googleKeyFrom,
  googleModel,
  googleModelList,
  openApiToJsonSchema,
  parseModelAction,
  toGoogleError,
} from '../../../../src/api/google/index.ts';
import { AppError, InvalidRequestError } from '../../../../src/errors.ts';
import { sdkAnswering, type Seen } from './fixtures.ts';

describe('models, read back by @google/genai', () => {
  const models = [{ id: 'gemini-3-flash', displayName: 'Gemini 3 Flash' }, { id: 'gemini-3-pro' }];

  it('models.list and models.get parse our Model resources', async () => {
    const seen: Seen[] = [];
    const list = await sdkAnswering(
      () => Response.json(googleModelList(models)),
      seen,
    ).models.list();
    const names: (string | undefined)[] = [];
    for await (const model of list) {
      names.push(model.name);
      expect(model.supportedActions).toEqual([
        'generateContent',
        'streamGenerateContent',
        'countTokens',
      ]);
    }
    expect(names).toEqual(['models/gemini-3-flash', 'models/gemini-3-pro']);
    expect(seen[0]?.url).toMatch(/^http:\/\/emulated\.invalid\/v1beta\/models(\?|$)/);
    const one = await sdkAnswering(() => Response.json(googleModel(models[0]!))).models.get({
      model: 'gemini-3-flash',
    });
    expect(one).toMatchObject({
      name: 'models/gemini-3-flash',
      displayName: 'Gemini 3 Flash',
      inputTokenLimit: 1_048_576,
    });
  });

  it('countTokens answers totalTokens for what the SDK sends', async () => {
    const seen: Seen[] = [];
    const client = sdkAnswering(
      () => Response.json(countGoogleTokens(seen.at(-1)?.body, 'gemini-3-flash')),
      seen,
    );
    const short = await client.models.countTokens({
      model: 'gemini-3-flash',
      contents: 'Hello there.',
    });
    const long = await client.models.countTokens({
      model: 'gemini-3-flash',
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Hello there, a much longer question about the weather.' },
            { inlineData: { mimeType: 'image/png', data: 'AA' } },
          ],
        },
      ],
    });
    expect(seen[0]?.url).toBe('http://emulated.invalid/v1beta/models/gemini-3-flash:countTokens');
    expect(short.totalTokens).toBeGreaterThan(1);
    expect(long.totalTokens).toBeGreaterThan((short.totalTokens ?? 0) + 258);
    const wrapped = countGoogleTokens(
      { generateContentRequest: { contents: [{ parts: [{ text: 'Hello there.' }] }] } },
      'm',
    );
    expect(wrapped.totalTokens).toBe(short.totalTokens);
  });

  it('parseModelAction splits {model}:{method} and refuses other methods', () => {
    expect(parseModelAction('gemini-3-flash:streamGenerateContent')).toEqual({
      model: 'gemini-3-flash',
      method: 'streamGenerateContent',
    });
    expect(parseModelAction('models/gemini-3-pro:generateContent')).toEqual({
      model: 'gemini-3-pro',
      method: 'generateContent',
    });
    for (const bad of [
      'gemini-3-pro',
      'gemini:embedContent',
      ':generateContent',
      'a/b:generateContent',
    ]) {
      expect(() => parseModelAction(bad)).toThrow(InvalidRequestError);
    }
  });
});

describe('openApiToJsonSchema', () => {
  it('lowercases types, turns nullable into a null type, and keeps constraints', () => {
    expect(
      openApiToJsonSchema({
        type: 'STRING',
        nullable: true,
        enum: ['a'],
        format: 'enum',
        example: 'a',
      }),
    ).toEqual({ type: ['string', 'null'], enum: ['a', null], format: 'enum' });
    expect(
      openApiToJsonSchema({ nullable: true, anyOf: [{ type: 'NUMBER' }, { type: 'BOOLEAN' }] }),
    ).toEqual({ anyOf: [{ anyOf: [{ type: 'number' }, { type: 'boolean' }] }, { type: 'null' }] });
    expect(
      openApiToJsonSchema({
        type: 'ARRAY',
        items: { type: 'OBJECT', properties: { TYPE: { type: 'INTEGER', minimum: 1 } } },
        minItems: 1,
      }),
    ).toEqual({
      type: 'array',
      items: { type: 'object', properties: { TYPE: { type: 'integer', minimum: 1 } } },
      minItems: 1,
    });
    expect(openApiToJsonSchema({ type: 'TYPE_UNSPECIFIED', description: 'd' })).toEqual({
      description: 'd',
    });
  });
});

describe('errors and keys', () => {
  it('maps every status onto Google status strings; unknown errors are a generic 500', () => {
    const statusOf = (status: number): [number, string] => {
      const e = toGoogleError(new AppError('x', status, 'any'));
      return [e.body.error.code, e.body.error.status];
    };
    expect([400, 401, 403, 404, 413, 429, 500, 502, 503, 504, 409].map(statusOf)).toEqual([
      [400, 'INVALID_ARGUMENT'],
      [401, 'UNAUTHENTICATED'],
      [403, 'PERMISSION_DENIED'],
      [404, 'NOT_FOUND'],
      [413, 'INVALID_ARGUMENT'],
      [429, 'RESOURCE_EXHAUSTED'],
      [500, 'INTERNAL'],
      [502, 'INTERNAL'],
      [503, 'UNAVAILABLE'],
      [504, 'DEADLINE_EXCEEDED'],
      [409, 'FAILED_PRECONDITION'],
    ]);
    const hidden = toGoogleError(new Error('secret stack detail'));
    expect(hidden).toMatchObject({
      status: 500,
      headers: {},
      body: { error: { code: 500, status: 'INTERNAL' } },
    });
    expect(hidden.body.error.message).not.toContain('secret');
  });

  it('googleKeyFrom takes ?key=, then x-goog-api-key, then a Bearer token', () => {
    expect(
      googleKeyFrom({ url: '/v1beta/models?key=k1&alt=sse', headers: { 'x-goog-api-key': 'k2' } }),
    ).toBe('k1');
    expect(
      googleKeyFrom({
        url: '/v1beta/models',
        headers: { 'x-goog-api-key': 'k2', authorization: 'Bearer k3' },
      }),
    ).toBe('k2');
    expect(
      googleKeyFrom({ url: '/v1beta/models?key=', headers: { authorization: 'Bearer k3' } }),
    ).toBe('k3');
    expect(googleKeyFrom({ headers: {} })).toBeNull();
  });

  it('reads the key @google/genai sends', async () => {
    const keys: (string | null)[] = [];
    const seen: Seen[] = [];
    await sdkAnswering(
      () => Response.json(googleModelList([])),
      seen,
      (init) => {
        keys.push(
          googleKeyFrom({
            url: seen.at(-1)?.url ?? '',
            headers: Object.fromEntries(new Headers(init?.headers).entries()),
          }),
        );
      },
    )
      .models.get({ model: 'x' })
      .catch(() => null);
    expect(keys).toEqual(['test-key']);
  });
});
