/**
 * A tool_choice that forces a call with no tool to call is a 400 in every dialect, in that
 * dialect's own shape and words, before anything reaches the backend: no send, no re-ask, no 502.
 * The turn route's own check catches a turn that a dialect let through.
 */
import type { Request, Response } from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  checkToolChoice,
  DEFAULT_TURN,
  type ChatTurn,
  type ToolDefinition,
} from '../../../src/api/core/index.ts';
import { prepareTurn, type TurnRouteDeps } from '../../../src/api/turn-route.ts';
import { InvalidRequestError } from '../../../src/errors.ts';
import { countingEcho, startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';

const KEY = 'sk-tool-choice-unit-0001';
const MODEL = 'gemini-2.5-flash';
const TOOL: ToolDefinition = { name: 'f', description: '', parameters: { type: 'object' } };
let app: RunningWorkerApp;
const echo = countingEcho();
let before = 0;
const sends = (): number => echo.turns() - before;

beforeAll(async () => {
  app = await startWorkerApp({ name: 'tool-choice', backend: echo.backend, userKey: KEY });
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  before = echo.turns();
});

async function send(path: string, body: unknown) {
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${KEY}`,
      'x-api-key': KEY,
      'x-goog-api-key': KEY,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, sent: res.headers.get('x-upstream-sent'), body: await res.text() };
}

/** A refusal: its status and JSON body, after checking it says nothing went upstream. */
async function post(path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await send(path, body);
  expect(res.sent).toBe('false');
  return { status: res.status, body: JSON.parse(res.body) as unknown };
}

const OPENAI_REQUIRED =
  "tool_choice 'required' needs at least one tool to call, but no tools were given.";
const openAIError = (message: string, param: string) => ({
  error: { message, type: 'invalid_request_error', param, code: null },
});

describe('a forced tool choice with no tool to call', () => {
  it('OpenAI chat and Responses: 400 on tool_choice, in OpenAI shape', async () => {
    const chat = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    for (const body of [
      { ...chat, tool_choice: 'required' },
      { ...chat, tools: [], tool_choice: 'required' },
    ]) {
      expect(await post('/v1/chat/completions', body)).toEqual({
        status: 400,
        body: openAIError(OPENAI_REQUIRED, 'tool_choice'),
      });
    }
    for (const body of [
      { model: MODEL, input: 'hi', tool_choice: 'required' },
      { model: MODEL, input: 'hi', tools: [], tool_choice: 'required', stream: true },
    ]) {
      expect(await post('/v1/responses', body)).toEqual({
        status: 400,
        body: openAIError(OPENAI_REQUIRED, 'tool_choice'),
      });
    }
    const fn = { type: 'function', name: 'f', parameters: { type: 'object' } };
    const allowed = (mode: string, names: string[]) => ({
      model: MODEL,
      input: 'hi',
      tools: [fn],
      tool_choice: {
        type: 'allowed_tools',
        mode,
        tools: names.map((name) => ({ type: 'function', name })),
      },
    });
    expect(await post('/v1/responses', allowed('required', []))).toEqual({
      status: 400,
      body: openAIError(
        "tool_choice.mode 'required' needs at least one tool to call, but tool_choice.tools is empty.",
        'tool_choice.tools',
      ),
    });
    for (const mode of ['auto', 'required']) {
      expect(await post('/v1/responses', allowed(mode, ['f', 'g']))).toEqual({
        status: 400,
        body: openAIError("tool_choice names 'g', which is not among tools.", 'tool_choice'),
      });
    }
    expect(sends()).toBe(0);
  });

  it('Anthropic: 400 invalid_request_error naming tool_choice, on messages and count_tokens', async () => {
    const base = { model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] };
    const any = {
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: "tool_choice.type 'any' needs at least one tool to call, but no tools were given.",
      },
    };
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      for (const extra of [{}, { tools: [] }, { stream: true }]) {
        expect(await post(path, { ...base, ...extra, tool_choice: { type: 'any' } })).toEqual({
          status: 400,
          body: any,
        });
      }
      expect(
        await post(path, { ...base, tools: [], tool_choice: { type: 'tool', name: 'f' } }),
      ).toEqual({
        status: 400,
        body: {
          type: 'error',
          error: {
            type: 'invalid_request_error',
            message: "tool_choice names 'f', which is not among tools.",
          },
        },
      });
    }
    expect(sends()).toBe(0);
  });

  it('Google: 400 INVALID_ARGUMENT naming toolConfig, on each method', async () => {
    const ask = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
    const anyMode = { functionCallingConfig: { mode: 'ANY' } };
    const expected = {
      error: {
        code: 400,
        status: 'INVALID_ARGUMENT',
        message:
          'toolConfig.functionCallingConfig.mode ANY needs at least one function to call, ' +
          'but tools declare no functionDeclarations.',
      },
    };
    for (const method of ['generateContent', 'streamGenerateContent?alt=sse', 'countTokens']) {
      const path = `/v1beta/models/${MODEL}:${method}`;
      for (const body of [
        { ...ask, toolConfig: anyMode },
        { ...ask, tools: [], toolConfig: anyMode },
        {
          ...ask,
          tools: [{ functionDeclarations: [] }],
          tool_config: { function_calling_config: { mode: 'ANY' } },
        },
      ]) {
        expect(await post(path, body)).toEqual({ status: 400, body: expected });
      }
      const named = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } };
      expect(await post(path, { ...ask, toolConfig: named })).toEqual({
        status: 400,
        body: {
          error: {
            code: 400,
            status: 'INVALID_ARGUMENT',
            message:
              "toolConfig.functionCallingConfig.allowedFunctionNames names 'f', which is not declared.",
          },
        },
      });
    }
    expect(sends()).toBe(0);
  });

  it('a forced choice with a tool to call still goes up', async () => {
    const res = await send('/v1/messages', {
      model: MODEL,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    });
    // The echo backend never calls a tool: the send and its one re-ask, then the 502.
    expect(res.status).toBe(502);
    expect(res.sent).toBe('true');
    expect(sends()).toBe(2);
  });
});

describe('checkToolChoice', () => {
  it('passes auto and none without tools, and a forced choice with one', () => {
    expect(checkToolChoice({ type: 'auto' }, [])).toEqual({ type: 'auto' });
    expect(checkToolChoice({ type: 'none' }, [])).toEqual({ type: 'none' });
    expect(checkToolChoice({ type: 'required' }, [TOOL])).toEqual({ type: 'required' });
    expect(checkToolChoice({ type: 'tool', name: 'f' }, [TOOL])).toEqual({
      type: 'tool',
      name: 'f',
    });
  });

  it("throws the dialect's words and param, or neutral ones", () => {
    const wording = { param: 'toolConfig', message: 'no functions' };
    expect(() => checkToolChoice({ type: 'required' }, [], wording)).toThrow(
      expect.objectContaining({ status: 400, param: 'toolConfig', message: 'no functions' }),
    );
    expect(() => checkToolChoice({ type: 'required' }, [])).toThrow(/no tools were given/);
    expect(() => checkToolChoice({ type: 'required' }, [])).toThrow(
      expect.objectContaining({ param: 'tool_choice' }),
    );
    expect(() => checkToolChoice({ type: 'tool', name: 'g' }, [TOOL])).toThrow(/'g', which is not/);
  });

  it('the turn route refuses a turn a dialect let through, before it reads anything else', async () => {
    const turn: ChatTurn = {
      ...DEFAULT_TURN,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
      toolChoice: { type: 'required' },
    };
    // Empty deps, request and response: any step past the check would throw a TypeError.
    const prepared = prepareTurn({} as TurnRouteDeps, {} as Request, {} as Response, {
      turn,
      modelName: MODEL,
      conversationId: null,
      files: [],
      partialOnCut: false,
    });
    await expect(prepared).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(prepared).rejects.toMatchObject({ param: 'tool_choice' });
  });
});
