/**
 * The history keys a router (the gateway) takes over Gemini API requests and answers are the
 * ones the worker stores and looks up: a worker app answers, the key computed from the request
 * and the answer's bytes (whole, or every chunk of the JSON-array stream) equals the key of the
 * client's next request, and that next request continues the same chat on the worker. Also:
 * a fileData URI goes through the guarded fetch (loopback refused with a 400).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyKey, historyKeyAfter } from '../../../../src/history-key.ts';
import {
  googleAnswerOf,
  googleKeyedMessages,
  type GenerateContentResponse,
} from '../../../../src/api/google/index.ts';
import { startRoutesApp, USER_KEY, type RoutesApp } from './app-fixture.ts';
import { ANSWER, WEATHER_DECLARATION } from './fixtures.ts';

let app: RoutesApp;

beforeAll(async () => {
  app = await startRoutesApp();
});

afterAll(async () => {
  await app.close();
});

async function post(action: string, body: unknown): Promise<Response> {
  return fetch(`${app.base}/v1beta/models/gemini-2.5-flash:${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': USER_KEY },
    body: JSON.stringify(body),
  });
}

describe('history keys of the Gemini API, as a router computes them', () => {
  it.each(['generateContent', 'streamGenerateContent'])(
    '%s: the key after the answer is the key of the next request, which continues natively',
    async (action) => {
      app.jobs.length = 0;
      app.answeredIn.length = 0;
      app.script({ text: ANSWER }, { text: 'Both are mild.' });
      const first = {
        systemInstruction: { parts: [{ text: 'Be brief.' }] },
        contents: [{ role: 'user', parts: [{ text: `Weather in Oslo and Rome? (${action})` }] }],
        tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
      };
      const res = await post(action, first);
      expect(res.status).toBe(200);
      const body = (await res.json()) as GenerateContentResponse | GenerateContentResponse[];
      const responses = Array.isArray(body) ? body : [body];
      const answer = googleAnswerOf(responses);
      expect(answer.toolCalls.map((c) => c.function.arguments)).toEqual([
        '{"city":"Oslo"}',
        '{"city":"Rome"}',
      ]);
      const bound = historyKeyAfter(googleKeyedMessages(first), answer.text, answer.toolCalls);
      // The client resends it all: the answer as the contents it got (one per chunk, streamed).
      const next = {
        ...first,
        contents: [
          ...first.contents,
          ...responses.map((r) => r.candidates[0]!.content),
          {
            role: 'user',
            parts: answer.toolCalls.map((c) => ({
              functionResponse: { name: c.function.name, response: { output: 'mild' } },
            })),
          },
        ],
      };
      expect(historyKey(googleKeyedMessages(next))).toBe(bound);
      expect((await post(action, next)).status).toBe(200);
      expect(app.jobs[1]?.chat?.cid).toBe(app.answeredIn[0]);
    },
  );

  it('an invalid body has no messages rather than throwing', () => {
    expect(googleKeyedMessages({ contents: 'nope' })).toEqual([]);
    expect(googleKeyedMessages(null)).toEqual([]);
    expect(googleAnswerOf([null, { candidates: 'x' }])).toEqual({ text: '', toolCalls: [] });
  });
});

describe('fileData', () => {
  it('fetches a fileUri through the guarded fetch: a loopback address is a 400', async () => {
    app.jobs.length = 0;
    const res = await post('generateContent', {
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'What is this?' },
            { fileData: { mimeType: 'image/png', fileUri: 'http://images.example/cat.png' } },
          ],
        },
      ],
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect(app.jobs).toHaveLength(0);
  });
});
