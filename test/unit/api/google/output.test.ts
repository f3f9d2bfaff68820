import { ApiError, Type } from '@google/genai';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerStream, finishAnswer, nextStep } from '../../../../src/api/core/index.ts';
import {
  createStreamFramer,
  GenerateContentStreamWriter,
  parseGenerateContentRequest,
  responseFromEvents,
  responseFromSummary,
  toGoogleError,
} from '../../../../src/api/google/index.ts';
import { RateLimitError, UpstreamError } from '../../../../src/errors.ts';
import {
  ANSWER,
  BASE,
  WEATHER_DECLARATION,
  framed,
  sdkAnswering,
  streamedChunks,
  type Seen,
} from './fixtures.ts';
import { chunkings } from '../core/fixtures.ts';

/** Every call carries its id, which the client sends back with its history. */
const CALL_ID = expect.stringMatching(/^call_\w+$/) as unknown as string;

describe('responses, read back by @google/genai', () => {
  const request = parseGenerateContentRequest(
    {
      contents: [{ parts: [{ text: 'Weather?' }] }],
      tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
    },
    'gemini-3-flash',
  );

  it('generateContent parses text, thoughts, function calls, usage and ids', async () => {
    const summary = finishAnswer(ANSWER, request.turn);
    const body = responseFromSummary(
      BASE,
      summary,
      { inputTokens: 10, outputTokens: 20, thoughtTokens: 5 },
      'Pondering.',
    );
    const response = await sdkAnswering(() => Response.json(body)).models.generateContent({
      model: 'gemini-3-flash',
      contents: 'Weather?',
    });
    expect(response.text).toBe('Checking both.');
    expect(response.functionCalls).toEqual([
      { id: CALL_ID, name: 'get_weather', args: { city: 'Oslo' } },
      { id: CALL_ID, name: 'get_weather', args: { city: 'Rome' } },
    ]);
    expect(response.candidates?.[0]?.content?.parts?.[0]).toEqual({
      text: 'Pondering.',
      thought: true,
    });
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.usageMetadata).toEqual({
      promptTokenCount: 10,
      candidatesTokenCount: 20,
      totalTokenCount: 35,
      thoughtsTokenCount: 5,
    });
    expect(response).toMatchObject({ modelVersion: 'gemini-3-flash', responseId: 'resp-1' });
  });

  it('says MAX_TOKENS when the limit cut the answer', () => {
    const short = parseGenerateContentRequest(
      { contents: [{ parts: [{ text: 'x' }] }], generationConfig: { maxOutputTokens: 1 } },
      'm',
    );
    const body = responseFromSummary(BASE, finishAnswer('one two three', short.turn), {
      inputTokens: 1,
      outputTokens: 1,
    });
    expect(body.candidates[0]).toMatchObject({
      finishReason: 'MAX_TOKENS',
      content: { parts: [{ text: 'one ' }] },
    });
  });

  it('generateContentStream over alt=sse assembles the same text and calls', async () => {
    const chunks = streamedChunks(request.turn, ANSWER);
    const seen: Seen[] = [];
    const sdkStream = await sdkAnswering(
      () =>
        new Response(framed(chunks, 'sse'), { headers: { 'content-type': 'text/event-stream' } }),
      seen,
    ).models.generateContentStream({ model: 'gemini-3-flash', contents: 'Weather?' });
    const received: { text: string; calls: unknown[]; finish: unknown; usage: unknown } = {
      text: '',
      calls: [],
      finish: null,
      usage: null,
    };
    for await (const chunk of sdkStream) {
      received.text +=
        chunk.candidates?.[0]?.content?.parts
          ?.filter((p) => !p.thought)
          .map((p) => p.text ?? '')
          .join('') ?? '';
      received.calls.push(...(chunk.functionCalls ?? []));
      received.finish = chunk.candidates?.[0]?.finishReason ?? received.finish;
      received.usage = chunk.usageMetadata ?? received.usage;
    }
    expect(seen[0]?.url).toBe(
      'http://emulated.invalid/v1beta/models/gemini-3-flash:streamGenerateContent?alt=sse',
    );
    const whole = finishAnswer(ANSWER, request.turn);
    expect(received.text).toBe(whole.text);
    expect(received.calls).toEqual([
      { id: CALL_ID, name: 'get_weather', args: { city: 'Oslo' } },
      { id: CALL_ID, name: 'get_weather', args: { city: 'Rome' } },
    ]);
    expect(received.finish).toBe('STOP');
    expect(received.usage).toMatchObject({
      promptTokenCount: 9,
      thoughtsTokenCount: 4,
      candidatesTokenCount: whole.outputTokens,
    });
  });

  it('the JSON-array framing is one JSON array of the same chunks, even when empty', () => {
    const chunks = streamedChunks(request.turn, ANSWER);
    const text = framed(chunks, 'json');
    expect(text.startsWith('[{')).toBe(true);
    expect(JSON.parse(text)).toEqual(chunks);
    expect(JSON.parse(framed([], 'json'))).toEqual([]);
    const framer = createStreamFramer('json');
    const cut =
      framer.frame(chunks[0]!) + framer.error(toGoogleError(new UpstreamError('cut')).body);
    expect(JSON.parse(cut)).toEqual([
      chunks[0],
      { error: { code: 502, message: 'cut', status: 'INTERNAL' } },
    ]);
  });

  it('an error chunk after the stream began is raised as ApiError', async () => {
    const framer = createStreamFramer('sse');
    const chunks = streamedChunks(request.turn, 'Partial');
    const text =
      framer.frame(chunks[0]!) +
      framer.error(toGoogleError(new UpstreamError('The answer was cut.')).body);
    const sdkStream = await sdkAnswering(
      () => new Response(text, { headers: { 'content-type': 'text/event-stream' } }),
    ).models.generateContentStream({ model: 'm', contents: 'x' });
    const consume = async (): Promise<void> => {
      for await (const _ of sdkStream) {
        // drain
      }
    };
    await expect(consume()).rejects.toThrow(/The answer was cut/);
  });

  it('JSON schema output: the validated JSON is the answer text, parsed by the caller', async () => {
    const r = parseGenerateContentRequest(
      {
        contents: [{ parts: [{ text: 'A person' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: {
            type: 'OBJECT',
            properties: { name: { type: 'STRING' }, age: { type: 'INTEGER' } },
            required: ['name', 'age'],
          },
        },
      },
      'm',
    );
    const summary = finishAnswer('```json\n{"name": "Ada", "age": "36"}\n```', r.turn);
    const step = nextStep(r.turn, summary, false);
    expect(step).toEqual({ kind: 'done', json: '{"name":"Ada","age":36}' });
    const body = responseFromSummary(
      BASE,
      { ...summary, text: step.kind === 'done' ? (step.json ?? '') : '' },
      { inputTokens: 3, outputTokens: 4 },
    );
    const response = await sdkAnswering(() => Response.json(body)).models.generateContent({
      model: 'm',
      contents: 'A person',
      config: { responseMimeType: 'application/json', responseSchema: { type: Type.OBJECT } },
    });
    expect(JSON.parse(response.text ?? '')).toEqual({ name: 'Ada', age: 36 });
    expect(nextStep(r.turn, finishAnswer('{"name": "Ada"}', r.turn), false).kind).toBe('reask');
  });

  it('a 429 arrives as ApiError 429 with RESOURCE_EXHAUSTED and a RetryInfo delay', async () => {
    const e = toGoogleError(new RateLimitError('Account cooling down.', 1800));
    expect(e).toEqual({
      status: 429,
      headers: { 'retry-after': '1800' },
      body: {
        error: {
          code: 429,
          message: 'Account cooling down.',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1800s' }],
        },
      },
    });
    const error = await sdkAnswering(() =>
      Response.json(e.body, { status: e.status, headers: e.headers }),
    )
      .models.generateContent({ model: 'm', contents: 'x' })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).message).toContain('RESOURCE_EXHAUSTED');
  });
});

describe('any chunking', () => {
  it('the streamed chunks carry the same parts, in order, as the whole response', async () => {
    const request = parseGenerateContentRequest(
      {
        contents: [{ parts: [{ text: 'x' }] }],
        tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
      },
      'm',
    );
    const text = `Intro ✓ 😀\n${ANSWER}\nAfter.`;
    const once = new AnswerStream(request.turn);
    const whole = responseFromEvents(BASE, [...once.push(text), ...once.end()], {
      inputTokens: 9,
      outputTokens: 1,
    });
    const wholeParts = whole.candidates[0]?.content.parts ?? [];
    expect(wholeParts.map((p) => ('functionCall' in p ? 'call' : 'text'))).toEqual([
      'text',
      'call',
      'call',
      'text',
    ]);
    await fc.assert(
      fc.asyncProperty(chunkings(text), async (chunks) => {
        const writer = new GenerateContentStreamWriter(BASE, 9);
        const stream = new AnswerStream(request.turn);
        const events = [...chunks.flatMap((c) => stream.push(c)), ...stream.end()];
        const body = framed(
          events.flatMap((e) => writer.push(e)),
          'sse',
        );
        const sdkStream = await sdkAnswering(
          () => new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
        ).models.generateContentStream({ model: 'm', contents: 'x' });
        const parts: { text?: string; functionCall?: unknown }[] = [];
        for await (const chunk of sdkStream) {
          for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
            const last = parts.at(-1);
            if (part.text !== undefined && last?.text !== undefined) {
              last.text += part.text;
            } else if (part.text !== '') {
              parts.push({ ...part });
            }
          }
        }
        expect(parts).toEqual(wholeParts);
      }),
      { numRuns: 25 },
    );
  });
});
