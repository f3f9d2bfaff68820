import { ApiError, FunctionCallingConfigMode, GoogleGenAI, Type } from '@google/genai';
import { describe, expect, it } from 'vitest';
import {
  AnswerStream,
  finishAnswer,
  nextStep,
  renderPrompt,
} from '../../../../src/api/core/index.ts';
import {
  createStreamFramer,
  GenerateContentStreamWriter,
  parseGenerateContentRequest,
  responseFromSummary,
  toGoogleError,
  type GenerateContentResponse,
  type StreamFraming,
} from '../../../../src/api/google/index.ts';
import { InvalidRequestError, RateLimitError, UpstreamError } from '../../../../src/errors.ts';

const ANSWER =
  'Checking both.\n\n```tool-call\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n' +
  '```tool-call\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```';
const WEATHER_DECLARATION = {
  name: 'get_weather',
  description: 'Weather',
  parameters: {
    type: Type.OBJECT,
    properties: { city: { type: Type.STRING } },
    required: ['city'],
  },
};
const BASE = { responseId: 'resp-1', modelVersion: 'gemini-3-flash' };

interface Seen {
  url: string;
  body: unknown;
}

/** An SDK client whose fetch records the request and answers with `reply`. */
function sdkAnswering(reply: () => Response, seen: Seen[] = []): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: 'test-key',
    httpOptions: {
      baseUrl: 'http://emulated.invalid',
      retryOptions: { attempts: 1 },
      fetch: async (input, init) => {
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : null;
        seen.push({ url: input instanceof Request ? input.url : String(input), body });
        return reply();
      },
    },
  });
}

function framed(chunks: readonly GenerateContentResponse[], framing: StreamFraming): string {
  const framer = createStreamFramer(framing);
  return chunks.map((c) => framer.frame(c)).join('') + framer.end();
}

function streamedChunks(
  turn: Parameters<typeof finishAnswer>[1],
  text: string,
): GenerateContentResponse[] {
  const writer = new GenerateContentStreamWriter(BASE, 9);
  const stream = new AnswerStream(turn);
  const events = [
    ...(text.match(/[\s\S]{1,6}/g) ?? []).flatMap((c) => stream.push(c)),
    ...stream.end(),
  ];
  return [...writer.thought('Pondering.'), ...events.flatMap((e) => writer.push(e, 4))];
}

describe('parseGenerateContentRequest', () => {
  it('reads what @google/genai sends: system, images, function calls and responses, config', async () => {
    const seen: Seen[] = [];
    const client = sdkAnswering(
      () =>
        Response.json(
          responseFromSummary(
            BASE,
            finishAnswer('ok', {
              tools: [],
              toolChoice: { type: 'auto' },
              parallelToolCalls: true,
              stop: [],
              maxTokens: null,
            }),
            { inputTokens: 1, outputTokens: 1 },
          ),
        ),
      seen,
    );
    await client.models.generateContent({
      model: 'gemini-3-flash',
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Weather in both?' },
            { inlineData: { mimeType: 'image/png', data: 'AAAA' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { text: 'hmm', thought: true },
            { text: 'Checking.' },
            { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } },
            { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'get_weather', response: { output: { temp: 3 } } } },
            { functionResponse: { name: 'get_weather', response: { error: 'no station' } } },
          ],
        },
      ],
      config: {
        systemInstruction: 'Be brief.',
        tools: [{ functionDeclarations: [WEATHER_DECLARATION] }],
        toolConfig: {
          functionCallingConfig: {
            mode: FunctionCallingConfigMode.ANY,
            allowedFunctionNames: ['get_weather'],
          },
        },
        stopSequences: ['END'],
        maxOutputTokens: 64,
        temperature: 0.2,
        thinkingConfig: { thinkingBudget: 0 },
      },
    });
    expect(seen[0]?.url).toBe(
      'http://emulated.invalid/v1beta/models/gemini-3-flash:generateContent',
    );
    const r = parseGenerateContentRequest(seen[0]?.body, 'models/gemini-3-flash');
    expect(r.model).toBe('gemini-3-flash');
    expect(r.turn.messages).toEqual([
      { role: 'system', text: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather in both?' },
          { type: 'image', url: 'data:image/png;base64,AAAA' },
        ],
      },
      {
        role: 'assistant',
        text: 'Checking.',
        toolCalls: [
          { id: 'call_1_2', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { id: 'call_1_3', name: 'get_weather', arguments: '{"city":"Rome"}' },
        ],
      },
      { role: 'tool', callId: 'call_1_2', name: 'get_weather', content: '{"output":{"temp":3}}' },
      {
        role: 'tool',
        callId: 'call_1_3',
        name: 'get_weather',
        content: '{"error":"no station"}',
        isError: true,
      },
    ]);
    expect(r.turn).toMatchObject({
      tools: [
        {
          name: 'get_weather',
          description: 'Weather',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      ],
      toolChoice: { type: 'tool', name: 'get_weather' },
      stop: ['END'],
      maxTokens: 64,
      responseFormat: { type: 'text' },
    });
    expect(renderPrompt(r.turn, { continued: false }).text).toContain(
      '[Tool error: get_weather (call_1_3)]',
    );
  });

  it('takes snake_case field names, parametersJsonSchema, and the tool modes', () => {
    const r = parseGenerateContentRequest(
      {
        system_instruction: { parts: [{ text: 'Sys.' }] },
        contents: [
          {
            role: 'user',
            parts: [{ inline_data: { mime_type: 'image/jpeg', data: 'BB' } }, { text: 'x' }],
          },
        ],
        tools: [
          {
            function_declarations: [
              {
                name: 'f',
                parameters_json_schema: {
                  type: 'object',
                  properties: { snake_name: { type: 'string' } },
                },
              },
              { name: 'g' },
            ],
          },
        ],
        tool_config: { function_calling_config: { mode: 'ANY' } },
        generation_config: { stop_sequences: ['x'], max_output_tokens: 3 },
      },
      'gemini-3-pro',
    );
    expect(r.turn.messages[0]).toEqual({ role: 'system', text: 'Sys.' });
    expect(r.turn.messages[1]).toEqual({
      role: 'user',
      content: [
        { type: 'image', url: 'data:image/jpeg;base64,BB' },
        { type: 'text', text: 'x' },
      ],
    });
    expect(r.turn.tools.map((t) => t.parameters)).toEqual([
      { type: 'object', properties: { snake_name: { type: 'string' } } },
      { type: 'object', properties: {} },
    ]);
    expect(r.turn).toMatchObject({ toolChoice: { type: 'required' }, stop: ['x'], maxTokens: 3 });
    const none = parseGenerateContentRequest(
      {
        contents: [{ parts: [{ text: 'x' }] }],
        tools: [{ functionDeclarations: [{ name: 'f' }] }],
        toolConfig: { functionCallingConfig: { mode: 'NONE' } },
      },
      'm',
    );
    expect(none.turn.toolChoice).toEqual({ type: 'none' });
  });

  it('converts responseSchema (OpenAPI-style) and takes responseJsonSchema as it is', () => {
    const r = parseGenerateContentRequest(
      {
        contents: [{ parts: [{ text: 'x' }] }],
        generationConfig: {
          responseMimeType: 'application/json',
          responseSchema: {
            type: 'OBJECT',
            properties: {
              name: { type: 'STRING' },
              age: { type: 'INTEGER', nullable: true },
              tags: { type: 'ARRAY', items: { type: 'STRING', enum: ['a', 'b'] } },
            },
            required: ['name'],
            propertyOrdering: ['name', 'age', 'tags'],
          },
        },
      },
      'm',
    );
    expect(r.turn.responseFormat).toEqual({
      type: 'json_schema',
      name: 'response',
      schema: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          age: { type: ['integer', 'null'] },
          tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
        },
        required: ['name'],
      },
    });
    const direct = { type: 'object', properties: { Big_Name: { type: 'number' } } };
    expect(
      parseGenerateContentRequest(
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { responseMimeType: 'application/json', responseJsonSchema: direct },
        },
        'm',
      ).turn.responseFormat,
    ).toEqual({ type: 'json_schema', name: 'response', schema: direct });
    expect(
      parseGenerateContentRequest(
        {
          contents: [{ parts: [{ text: 'x' }] }],
          generationConfig: { responseMimeType: 'application/json' },
        },
        'm',
      ).turn.responseFormat,
    ).toEqual({ type: 'json_object' });
  });

  it('answers clear 400s for what it cannot honour', () => {
    const ok = { contents: [{ role: 'user', parts: [{ text: 'x' }] }] };
    const cases: [unknown, RegExp][] = [
      ['text', /JSON object/],
      [{ contents: [] }, /contents must hold at least one/],
      [{ ...ok, generationConfig: { candidateCount: 2 } }, /candidateCount/],
      [{ ...ok, generationConfig: { responseMimeType: 'text/x.enum' } }, /responseMimeType/],
      [
        { contents: [{ parts: [{ inlineData: { mimeType: 'application/pdf', data: 'x' } }] }] },
        /contents\.0\.parts\.0: only images/,
      ],
      [
        { contents: [{ parts: [{ fileData: { fileUri: 'gs://bucket/a.png' } }] }] },
        /http\(s\) URL/,
      ],
      [
        {
          ...ok,
          tools: [{ functionDeclarations: [{ name: 'f' }] }],
          toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] } },
        },
        /'g', which is not declared/,
      ],
      [
        {
          ...ok,
          generationConfig: {
            responseMimeType: 'application/json',
            responseJsonSchema: { type: 7 },
          },
        },
        /invalid JSON schema/,
      ],
      [
        { contents: [{ role: 'model', parts: [{ text: 'only me' }] }] },
        /must end with a user message/,
      ],
    ];
    for (const [body, message] of cases) {
      expect(() =>
        renderPrompt(parseGenerateContentRequest(body, 'm').turn, { continued: false }),
      ).toThrow(message);
      expect(() =>
        renderPrompt(parseGenerateContentRequest(body, 'm').turn, { continued: false }),
      ).toThrow(InvalidRequestError);
    }
  });
});

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
      { name: 'get_weather', args: { city: 'Oslo' } },
      { name: 'get_weather', args: { city: 'Rome' } },
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
      { name: 'get_weather', args: { city: 'Oslo' } },
      { name: 'get_weather', args: { city: 'Rome' } },
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
