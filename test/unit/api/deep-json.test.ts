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
import { InvalidRequestError } from '../../../src/errors.ts';
import { MAX_JSON_DEPTH } from '../../../src/http/index.ts';
import {
  TOO_DEEP,
  anthropicWithInput,
  chatWithArguments,
  googleWithCallArgs,
  googleWithField,
  nestedObjects as objects,
  responsesWithArguments,
  tooDeepError,
} from '../support/deep-json.ts';
import { countingEcho, startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';

const KEY = 'sk-deep-json-user-0001';
const OPENAI = { authorization: `Bearer ${KEY}` };
const ANTHROPIC = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const GOOGLE = { 'x-goog-api-key': KEY };
const GOOGLE_PATH = '/v1beta/models/gemini-3-flash';
const ARGUMENTS = 'messages.1.tool_calls.0.function.arguments';

/** A refused request: what it is, where it goes with which key headers, and its dialect's error. */
interface Refused {
  readonly name: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly error: object;
}
const chat = (name: string, path: string, body: string, param: string | null): Refused => ({
  name: `OpenAI ${name}`,
  path,
  headers: OPENAI,
  body,
  error: tooDeepError.openai(param),
});
const claude = (name: string, path: string, body: string): Refused => ({
  name: `Anthropic ${name}`,
  path,
  headers: ANTHROPIC,
  body,
  error: tooDeepError.anthropic(),
});
const gemini = (name: string, method: string, body: string): Refused => ({
  name: `Google ${name}`,
  path: `${GOOGLE_PATH}:${method}`,
  headers: GOOGLE,
  body,
  error: tooDeepError.google(),
});
const OVER = MAX_JSON_DEPTH + 1;

const REFUSED: readonly Refused[] = [
  chat('deep arguments', '/v1/chat/completions', chatWithArguments(objects(5000)), ARGUMENTS),
  chat('streamed', '/v1/chat/completions', chatWithArguments(objects(OVER), true), ARGUMENTS),
  chat('responses', '/v1/responses', responsesWithArguments(objects(5000)), 'input.1.arguments'),
  chat('deep body', '/v1/chat/completions', `{"messages":[],"x":${objects(3000)}}`, null),
  claude('tool_use.input', '/v1/messages', anthropicWithInput(objects(5000))),
  claude('count_tokens', '/v1/messages/count_tokens', anthropicWithInput(objects(5000))),
  gemini('deep field', 'generateContent', googleWithField(objects(2000))),
  // The body's own object is a level: MAX_JSON_DEPTH more under "x" are one too many.
  gemini('stream', 'streamGenerateContent?alt=sse', googleWithField(objects(MAX_JSON_DEPTH))),
  gemini('countTokens', 'countTokens', googleWithField(objects(2000))),
  gemini('functionCall.args', 'generateContent', googleWithCallArgs(objects(5000))),
];

for (const expressOnly of [false, true]) {
  describe(`deep JSON in the worker app (${expressOnly ? 'express alone' : 'fast path'})`, () => {
    let app: RunningWorkerApp;
    const { backend, turns } = countingEcho();
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

    for (const { name, path, headers, body, error } of REFUSED) {
      it(`${name}: 400 in its own shape, nothing sent`, async () => {
        const before = turns();
        const res = await post(path, headers, body);
        expect(res.status).toBe(400);
        expect(res.headers.get('x-upstream-sent')).toBe('false');
        expect(await res.json()).toMatchObject(error);
        expect(turns()).toBe(before);
      });
    }

    it('runs JSON exactly at the limit: a body and tool arguments 128 levels deep', async () => {
      const before = turns();
      // The body's own object is a level: 127 more under "x" make 128.
      const google = await post(
        `${GOOGLE_PATH}:generateContent`,
        GOOGLE,
        googleWithField(objects(MAX_JSON_DEPTH - 1)),
      );
      expect(google.status).toBe(200);
      const chat = await post(
        '/v1/chat/completions',
        OPENAI,
        chatWithArguments(objects(MAX_JSON_DEPTH)),
      );
      expect(chat.status).toBe(200);
      expect(turns()).toBe(before + 2);
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
    const err = refusal(() => parseChatRequest(JSON.parse(chatWithArguments(objects(5000)))));
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).toMatchObject({ status: 400, param: ARGUMENTS });
    expect(() =>
      parseChatRequest(JSON.parse(chatWithArguments(objects(MAX_JSON_DEPTH)))),
    ).not.toThrow();
    // Arguments that are not JSON are the model's text as before, not a depth refusal.
    expect(() => parseChatRequest(JSON.parse(chatWithArguments('not json {')))).not.toThrow();
  });

  it('responses: function_call arguments', () => {
    const err = refusal(() =>
      parseResponsesRequest(JSON.parse(responsesWithArguments(objects(5000)))),
    );
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err).toMatchObject({ status: 400, param: 'input.1.arguments' });
    expect(err).toHaveProperty('message', expect.stringMatching(TOO_DEEP) as unknown);
    expect(() =>
      parseResponsesRequest(JSON.parse(responsesWithArguments(objects(MAX_JSON_DEPTH)))),
    ).not.toThrow();
  });
});
