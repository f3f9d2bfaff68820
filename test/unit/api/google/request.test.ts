import { FunctionCallingConfigMode } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { finishAnswer, renderPrompt } from '../../../../src/api/core/index.ts';
import {
  parseGenerateContentRequest,
  responseFromSummary,
} from '../../../../src/api/google/index.ts';
import { InvalidRequestError } from '../../../../src/errors.ts';
import { BASE, WEATHER_DECLARATION, sdkAnswering, type Seen } from './fixtures.ts';

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
