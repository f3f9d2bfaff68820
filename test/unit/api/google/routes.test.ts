/**
 * The /v1beta routes of a real worker app (loopback socket, scripted backend), driven by the
 * unmodified @google/genai SDK and by raw fetch: whole and streamed answers in both framings,
 * calls with ids, native continuation of a resent history, max tokens, structured output with
 * its one repair, countTokens, the model list, and errors in Google's shape before and after
 * the first byte.
 */
import { ApiError, GoogleGenAI, Type, type Content } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimitError, UpstreamError } from '../../../../src/errors.ts';
import { ADMIN_KEY, startRoutesApp, USER_KEY, type RoutesApp } from './app-fixture.ts';
import { ANSWER, WEATHER_DECLARATION } from './fixtures.ts';

const MODEL = 'gemini-2.5-flash';
let app: RoutesApp;
let ai: GoogleGenAI;

beforeAll(async () => {
  app = await startRoutesApp(40);
  ai = new GoogleGenAI({ apiKey: USER_KEY, httpOptions: { baseUrl: app.base } });
});

afterAll(async () => {
  await app.close();
});

beforeEach(() => {
  app.jobs.length = 0;
  app.answeredIn.length = 0;
});

/** A raw POST to /v1beta/models/{path} with the key in the query. */
function post(path: string, body: unknown): Promise<Response> {
  const sep = path.includes('?') ? '&' : '?';
  return fetch(`${app.base}/v1beta/models/${path}${sep}key=${USER_KEY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

const ask = (text: string) => ({ contents: [{ role: 'user', parts: [{ text }] }] });

describe('generateContent', () => {
  it('answers text with usageMetadata that matches countTokens, and x-upstream-sent true', async () => {
    app.script({ text: 'Hello from the emulated model.' });
    const res = await ai.models.generateContent({ model: MODEL, contents: 'Say hello.' });
    expect(res.text).toBe('Hello from the emulated model.');
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.modelVersion).toBe(MODEL);
    const counted = await ai.models.countTokens({ model: MODEL, contents: 'Say hello.' });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(res.usageMetadata?.promptTokenCount).toBe(counted.totalTokens);
    expect(res.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(res.sdkHttpResponse?.headers?.['x-upstream-sent']).toBe('true');
    expect(app.jobs).toHaveLength(1);
  });

  it('returns thoughts as thought parts and counts them', async () => {
    app.script({ thoughts: 'Let me think.', text: 'Done.' });
    const res = await ai.models.generateContent({
      model: 'gemini-3-flash-thinking',
      contents: 'Think.',
    });
    expect(res.candidates?.[0]?.content?.parts?.[0]).toEqual({
      text: 'Let me think.',
      thought: true,
    });
    expect(res.text).toBe('Done.');
    expect(res.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
  });

  it('ends at maxOutputTokens with MAX_TOKENS', async () => {
    app.script({ text: 'one two three four five six seven eight nine ten eleven twelve' });
    const res = await ai.models.generateContent({
      model: MODEL,
      contents: 'Count.',
      config: { maxOutputTokens: 3 },
    });
    expect(res.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(res.text?.length).toBeLessThan(30);
  });

  it('returns JSON that passes responseSchema, after one re-ask in the same chat', async () => {
    app.script({ text: 'Sure! Here it is.' }, { text: '{"city": "Oslo", "temp": 4}' });
    const res = await ai.models.generateContent({
      model: MODEL,
      contents: 'The weather as JSON.',
      config: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: Type.OBJECT,
          properties: { city: { type: Type.STRING }, temp: { type: Type.INTEGER } },
          required: ['city', 'temp'],
        },
      },
    });
    expect(JSON.parse(res.text ?? '')).toEqual({ city: 'Oslo', temp: 4 });
    expect(app.jobs).toHaveLength(2);
    expect(app.jobs[0]?.chat).toBeNull();
    expect(app.jobs[1]?.chat?.cid).toBe(app.answeredIn[0]);
  });
});

describe('function calling', () => {
  it('returns calls with ids, and a functionResponse continues the same chat natively', async () => {
    app.script({ text: ANSWER }, { text: 'Oslo is sunny, Rome is warm.' });
    const config = { tools: [{ functionDeclarations: [WEATHER_DECLARATION] }] };
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Oslo and Rome?' }] };
    const first = await ai.models.generateContent({ model: MODEL, contents: [question], config });
    const calls = first.functionCalls ?? [];
    expect(calls.map((c) => c.args)).toEqual([{ city: 'Oslo' }, { city: 'Rome' }]);
    expect(calls.every((c) => /^call_\w+$/.test(c.id ?? ''))).toBe(true);
    const answers: Content = {
      role: 'user',
      parts: calls.map((c) => ({
        functionResponse: { name: c.name!, response: { output: `${String(c.args?.['city'])} ok` } },
      })),
    };
    const second = await ai.models.generateContent({
      model: MODEL,
      contents: [question, first.candidates![0]!.content!, answers],
      config,
    });
    expect(second.text).toBe('Oslo is sunny, Rome is warm.');
    expect(app.jobs).toHaveLength(2);
    expect(app.jobs[1]?.chat?.cid).toBe(app.answeredIn[0]);
    expect(app.jobs[1]?.prompt).toContain('Rome ok');
    expect(app.jobs[1]?.prompt).not.toContain('Weather in Oslo and Rome?');
  });

  it('NONE mode keeps the protocol out of the answer', async () => {
    app.script({ text: 'Plain answer.' });
    const res = await ai.models.generateContent({
      model: MODEL,
      contents: 'Weather?',
      config: {
        tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
        toolConfig: { functionCallingConfig: { mode: 'NONE' as never } },
      },
    });
    expect(res.functionCalls).toBeUndefined();
    expect(res.text).toBe('Plain answer.');
  });
});

describe('streamGenerateContent', () => {
  it('streams alt=sse chunks the SDK assembles, thoughts first and the finish last', async () => {
    app.script({ thoughts: 'Hmm.', text: 'A streamed answer in several pieces.' });
    const chunks = [];
    for await (const c of await ai.models.generateContentStream({
      model: 'gemini-3-flash-thinking',
      contents: 'Stream it.',
    })) {
      chunks.push(c);
    }
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]?.candidates?.[0]?.content?.parts?.[0]).toEqual({
      text: 'Hmm.',
      thought: true,
    });
    expect(chunks.map((c) => c.text ?? '').join('')).toBe('A streamed answer in several pieces.');
    expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(chunks.at(-1)?.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
  });

  it('streams the JSON array form as one JSON array, keep-alives included', async () => {
    app.script({ text: 'Array framing, slowly.', pauseMs: 150 });
    const res = await post(`${MODEL}:streamGenerateContent`, ask('Array.'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const raw = await res.text();
    // The pause was longer than the keep-alive interval: whitespace went out between elements.
    expect(raw).toMatch(/\r\n\r\n/);
    const chunks = JSON.parse(raw) as {
      candidates: { content: { parts: { text: string }[] } }[];
    }[];
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe(
      'Array framing, slowly.',
    );
  });

  it('continues a chat natively when the SDK resends a streamed answer as many contents', async () => {
    app.script({ text: 'First answer, streamed in pieces.' }, { text: 'Second answer.' });
    const chat = ai.chats.create({ model: MODEL });
    for await (const chunk of await chat.sendMessageStream({ message: 'First question.' })) {
      expect(chunk.candidates).toHaveLength(1);
    }
    // The SDK's history holds one model content per chunk.
    expect(chat.getHistory().filter((c) => c.role === 'model').length).toBeGreaterThan(2);
    const second = await chat.sendMessage({ message: 'Second question.' });
    expect(second.text).toBe('Second answer.');
    expect(app.jobs[1]?.chat?.cid).toBe(app.answeredIn[0]);
    expect(app.jobs[1]?.prompt).not.toContain('First question.');
  });

  it('ends a started stream with an error element in Google shape, in both framings', async () => {
    const cut = () =>
      new UpstreamError('The answer broke off.', { code: 'upstream_outcome_unknown' });
    app.script({ text: 'Partial text.', failAfter: cut() });
    const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'Cut.' });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of stream) {
          seen.push(c.text ?? '');
        }
      })(),
    ).rejects.toThrow(/broke off/);
    expect(seen.join('')).toBe('Partial text.');
    app.script({ text: 'Partial text.', failAfter: cut() });
    const raw = await (await post(`${MODEL}:streamGenerateContent`, ask('Cut.'))).text();
    const elements = JSON.parse(raw) as { error?: { code: number; status: string } }[];
    expect(elements.at(-1)?.error).toMatchObject({ code: 502, status: 'INTERNAL' });
  });
});

describe('errors before the first byte, in Google shape', () => {
  it('a cooling account: 429 RESOURCE_EXHAUSTED with Retry-After and RetryInfo, as ApiError', async () => {
    app.script({ failBefore: new RateLimitError('The account is cooling down.', 120) });
    const err = await ai.models
      .generateContent({ model: MODEL, contents: 'Now?' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(429);
    app.script({ failBefore: new RateLimitError('The account is cooling down.', 120) });
    const res = await post(`${MODEL}:streamGenerateContent?alt=sse`, ask('Now?'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('120');
    expect(res.headers.get('x-upstream-sent')).toBe('false');
    expect(await res.json()).toEqual({
      error: {
        code: 429,
        message: 'The account is cooling down.',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '120s' }],
      },
    });
  });

  it('refuses bad input with 400/404 before anything is queued', async () => {
    const cases: [string, unknown, number, string][] = [
      [`${MODEL}:embedContent`, ask('x'), 400, 'INVALID_ARGUMENT'],
      ['no-such-model:generateContent', ask('x'), 404, 'NOT_FOUND'],
      ['no-such-model:countTokens', ask('x'), 404, 'NOT_FOUND'],
      [`${MODEL}:generateContent`, { contents: [] }, 400, 'INVALID_ARGUMENT'],
      [
        `${MODEL}:generateContent`,
        { ...ask('x'), generationConfig: { candidateCount: 2 } },
        400,
        'INVALID_ARGUMENT',
      ],
    ];
    for (const [path, body, code, status] of cases) {
      const res = await post(path, body);
      expect(res.status, path).toBe(code);
      expect(await res.json()).toMatchObject({ error: { code, status } });
    }
    expect(app.jobs).toHaveLength(0);
  });
});

describe('models', () => {
  it('lists the models and reads one, through the SDK', async () => {
    const names: string[] = [];
    for await (const m of await ai.models.list()) {
      names.push(m.name ?? '');
    }
    expect(names).toContain(`models/${MODEL}`);
    const one = await ai.models.get({ model: MODEL });
    expect(
      one.supportedActions ??
        (one as { supportedGenerationMethods?: string[] }).supportedGenerationMethods,
    ).toContain('generateContent');
    expect(one.name).toBe(`models/${MODEL}`);
    const missing = await fetch(`${app.base}/v1beta/models/nope?key=${USER_KEY}`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { status: 'NOT_FOUND' } });
  });
});

describe('metrics', () => {
  it('counts the Gemini API requests by route, as chat is counted', async () => {
    app.script({ text: 'Counted.' });
    await ai.models.generateContent({ model: MODEL, contents: 'Count me.' });
    const res = await fetch(`${app.base}/metrics`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const text = await res.text();
    expect(text).toMatch(
      /gk_http_requests_total\{route="\/v1beta\/models\/:action",status="200"[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/gk_first_token_seconds_count\{[^}]*\} [1-9]/);
  });
});
