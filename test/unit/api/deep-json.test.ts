/**
 * Deeply nested JSON in each dialect of the worker app, through its fast path and through express
 * alone: a deep body (a Google field, Gemini call args, Anthropic tool_use input) or a deep JSON
 * string (OpenAI's and Responses' tool-call arguments) is a 400 in the dialect's own shape naming
 * the limit, never a stack overflow's 500, and no turn reaches the backend. JSON at the limit runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';
import { parseResponsesRequest } from '../../../src/api/openai/responses-request.ts';
import type { ChatBackend } from '../../../src/api/index.ts';
import { InvalidRequestError } from '../../../src/errors.ts';
import { MAX_JSON_DEPTH } from '../../../src/http/index.ts';
import { echoBackend, startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';

const KEY = 'sk-deep-json-user-0001';
/** `depth` nested objects as JSON text (built as text: JSON.stringify would overflow on it). */
const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const TOO_DEEP = /JSON nested more than 128 levels deep is not accepted/;

const chatBody = (args: string, stream = false) =>
  JSON.stringify({
    model: 'gemini-3-flash',
    stream,
    messages: [
      { role: 'user', content: 'x' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'r' },
    ],
  });
const responsesBody = (args: string) =>
  JSON.stringify({
    model: 'gemini-3-flash',
    input: [
      { role: 'user', content: 'x' },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: args },
      { type: 'function_call_output', call_id: 'c1', output: 'r' },
    ],
  });
const anthropicBody = (input: string) =>
  '{"model":"gemini-3-flash","max_tokens":10,"messages":[{"role":"user","content":"x"},' +
  `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":${input}}]},` +
  '{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}';
const googleBody = (extra: string) =>
  `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"x":${extra}}`;
const googleCallBody = (args: string) =>
  '{"contents":[{"role":"user","parts":[{"text":"x"}]},' +
  `{"role":"model","parts":[{"functionCall":{"name":"f","args":${args}}}]},` +
  '{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}}]}]}';

const OPENAI = { authorization: `Bearer ${KEY}` };
const ANTHROPIC = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const GOOGLE = { 'x-goog-api-key': KEY };
const GOOGLE_PATH = '/v1beta/models/gemini-3-flash';
const openaiError = (param: string | null) => ({
  error: {
    type: 'invalid_request_error',
    param,
    message: expect.stringMatching(TOO_DEEP) as unknown,
  },
});
const anthropicError = {
  type: 'error',
  error: { type: 'invalid_request_error', message: expect.stringMatching(TOO_DEEP) as unknown },
};
const googleError = {
  error: {
    code: 400,
    status: 'INVALID_ARGUMENT',
    message: expect.stringMatching(TOO_DEEP) as unknown,
  },
};

/** Each refused request: path, headers, body, and the error body its dialect answers. */
const REFUSED: readonly (readonly [string, string, Record<string, string>, string, unknown])[] = [
  [
    'OpenAI chat, deep tool_calls arguments',
    '/v1/chat/completions',
    OPENAI,
    chatBody(objects(5000)),
    openaiError('messages.1.tool_calls.0.function.arguments'),
  ],
  [
    'OpenAI chat streamed, arguments one level over',
    '/v1/chat/completions',
    OPENAI,
    chatBody(objects(MAX_JSON_DEPTH + 1), true),
    openaiError('messages.1.tool_calls.0.function.arguments'),
  ],
  [
    'Responses, deep function_call arguments',
    '/v1/responses',
    OPENAI,
    responsesBody(objects(5000)),
    openaiError('input.1.arguments'),
  ],
  [
    'OpenAI chat, a deep body',
    '/v1/chat/completions',
    OPENAI,
    `{"model":"gemini-3-flash","messages":[],"x":${objects(3000)}}`,
    openaiError(null),
  ],
  [
    'Anthropic, deep tool_use.input',
    '/v1/messages',
    ANTHROPIC,
    anthropicBody(objects(5000)),
    anthropicError,
  ],
  [
    'Anthropic count_tokens, deep tool_use.input',
    '/v1/messages/count_tokens',
    ANTHROPIC,
    anthropicBody(objects(5000)),
    anthropicError,
  ],
  [
    'Google, a deep field',
    `${GOOGLE_PATH}:generateContent`,
    GOOGLE,
    googleBody(objects(2000)),
    googleError,
  ],
  [
    'Google stream, one level over',
    `${GOOGLE_PATH}:streamGenerateContent?alt=sse`,
    GOOGLE,
    googleBody(objects(MAX_JSON_DEPTH)),
    googleError,
  ],
  [
    'Google countTokens, a deep field',
    `${GOOGLE_PATH}:countTokens`,
    GOOGLE,
    googleBody(objects(2000)),
    googleError,
  ],
  [
    'Google, deep functionCall.args',
    `${GOOGLE_PATH}:generateContent`,
    GOOGLE,
    googleCallBody(objects(5000)),
    googleError,
  ],
];

for (const expressOnly of [false, true]) {
  describe(`deep JSON in the worker app (${expressOnly ? 'express alone' : 'fast path'})`, () => {
    let app: RunningWorkerApp;
    let turns = 0;
    const backend: ChatBackend = {
      stream(job, signal) {
        turns++;
        return echoBackend.stream(job, signal);
      },
    };
    beforeAll(async () => {
      app = await startWorkerApp({ name: 'deep-json', backend, userKey: KEY, expressOnly });
    });
    afterAll(async () => {
      await app?.close();
    });
    const savedConversation = async (id: string | null) => {
      expect(id).not.toBeNull();
      for (let tries = 0; ; tries++) {
        const res = await fetch(`${app.url}/conversations/${id}`, { headers: OPENAI });
        if (res.status === 200 || tries === 100) {
          expect(res.status).toBe(200);
          return;
        }
        await sleep(20);
      }
    };
    const post = (path: string, headers: Record<string, string>, body: string) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    for (const [name, path, headers, body, error] of REFUSED) {
      it(`${name}: 400 in its own shape, nothing sent`, async () => {
        const before = turns;
        const res = await post(path, headers, body);
        expect(res.status).toBe(400);
        expect(res.headers.get('x-upstream-sent')).toBe('false');
        expect(await res.json()).toMatchObject(error as object);
        expect(turns).toBe(before);
      });
    }

    it('runs JSON exactly at the limit: a body and tool arguments 128 levels deep', async () => {
      const before = turns;
      // The body's own object is a level: 127 more under "x" make 128.
      const google = await post(
        `${GOOGLE_PATH}:generateContent`,
        GOOGLE,
        googleBody(objects(MAX_JSON_DEPTH - 1)),
      );
      expect(google.status).toBe(200);
      const chat = await post('/v1/chat/completions', OPENAI, chatBody(objects(MAX_JSON_DEPTH)));
      expect(chat.status).toBe(200);
      expect(turns).toBe(before + 2);
      // Each turn is saved after its answer: let the saves land before the app's dir is removed.
      for (const res of [google, chat]) {
        await res.text();
        await savedConversation(res.headers.get('x-conversation-id'));
      }
    });
  });
}

describe('the OpenAI conversions refuse deep tool-call arguments, naming the field', () => {
  const refusal = (parse: () => unknown): unknown => {
    try {
      parse();
    } catch (err) {
      return err;
    }
    return null;
  };

  it('chat completions: tool_calls[].function.arguments', () => {
    const err = refusal(() => parseChatRequest(JSON.parse(chatBody(objects(5000)))));
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).toMatchObject({ status: 400, param: 'messages.1.tool_calls.0.function.arguments' });
    expect(() => parseChatRequest(JSON.parse(chatBody(objects(MAX_JSON_DEPTH))))).not.toThrow();
    // Arguments that are not JSON are the model's text as before, not a depth refusal.
    expect(() => parseChatRequest(JSON.parse(chatBody('not json {')))).not.toThrow();
  });

  it('responses: function_call arguments', () => {
    const err = refusal(() => parseResponsesRequest(JSON.parse(responsesBody(objects(5000)))));
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).toMatchObject({ status: 400, param: 'input.1.arguments' });
    expect(err).toHaveProperty('message', expect.stringMatching(TOO_DEEP) as unknown);
    expect(() =>
      parseResponsesRequest(JSON.parse(responsesBody(objects(MAX_JSON_DEPTH)))),
    ).not.toThrow();
  });
});
