import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../../src/errors.ts';
import { renderPrompt } from '../../../../src/api/core/index.ts';
import { parseResponsesRequest } from '../../../../src/api/openai/responses-request.ts';
import { WEATHER_TOOL } from './fixtures.ts';

describe('parseResponsesRequest', () => {
  it('takes input as a string, with instructions as the system message', () => {
    const r = parseResponsesRequest({
      model: 'gemini-3-flash',
      input: 'Hi',
      instructions: 'Be brief.',
    });
    expect(r.turn.messages).toEqual([
      { role: 'system', text: 'Be brief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
    ]);
    expect(r).toMatchObject({ model: 'gemini-3-flash', stream: false, previousResponseId: null });
    expect(renderPrompt(r.turn, { continued: false }).text).toBe(
      'System instructions:\nBe brief.\n\n[User]: Hi',
    );
  });

  it('takes items: messages, images, earlier calls and their outputs, and skips reasoning', () => {
    const r = parseResponsesRequest({
      input: [
        { role: 'developer', content: 'Use metric.' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'Weather?' },
            { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'auto' },
          ],
        },
        { type: 'reasoning', id: 'rs_1', summary: [] },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Checking.', annotations: [] }],
        },
        {
          type: 'function_call',
          call_id: 'call_1',
          name: 'get_weather',
          arguments: '{"city":"Oslo"}',
        },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":3}' },
      ],
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      max_output_tokens: 50,
      previous_response_id: 'resp_prev',
      stream: true,
      some_future_field: { anything: true },
    });
    expect(r.turn.messages).toEqual([
      { role: 'system', text: 'Use metric.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather?' },
          { type: 'image', url: 'data:image/png;base64,AA' },
        ],
      },
      {
        role: 'assistant',
        text: 'Checking.',
        toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { role: 'tool', callId: 'call_1', content: '{"temp":3}' },
    ]);
    expect(r.turn).toMatchObject({
      toolChoice: { type: 'tool', name: 'get_weather' },
      parallelToolCalls: false,
      maxTokens: 50,
    });
    expect(r.turn.tools).toEqual([
      { name: 'get_weather', description: 'Weather', parameters: WEATHER_TOOL.parameters },
    ]);
    expect(r).toMatchObject({ stream: true, previousResponseId: 'resp_prev' });
  });

  it('maps tool_choice strings and allowed_tools, and text.format', () => {
    const base = { input: 'x', tools: [WEATHER_TOOL] };
    expect(parseResponsesRequest({ ...base, tool_choice: 'required' }).turn.toolChoice).toEqual({
      type: 'required',
    });
    expect(parseResponsesRequest({ ...base, tool_choice: 'none' }).turn.toolChoice).toEqual({
      type: 'none',
    });
    expect(
      parseResponsesRequest({
        ...base,
        tool_choice: {
          type: 'allowed_tools',
          mode: 'required',
          tools: [{ type: 'function', name: 'get_weather' }],
        },
      }).turn.toolChoice,
    ).toEqual({ type: 'tool', name: 'get_weather' });
    const format = { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true };
    expect(parseResponsesRequest({ input: 'x', text: { format } }).turn.responseFormat).toEqual({
      type: 'json_schema',
      name: 'x',
      schema: { type: 'object' },
    });
  });

  it('answers clear 400s for what it cannot honour', () => {
    const cases: [unknown, RegExp][] = [
      [null, /JSON object/],
      [{}, /^input:/],
      [
        { input: 'x', tools: [{ type: 'web_search' }] },
        /tools\[0\]: tools of type 'web_search' are not supported/,
      ],
      [
        { input: [{ type: 'item_reference', id: 'msg_1' }] },
        /input\[0\]: items of type 'item_reference'/,
      ],
      [
        { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
        /input\[0\]\.content\[0\]: content of type 'input_file'/,
      ],
      [
        { input: 'x', tools: [WEATHER_TOOL], tool_choice: { type: 'function', name: 'other' } },
        /not among tools/,
      ],
      [
        { input: 'x', text: { format: { type: 'json_schema', name: 'x', schema: { type: 5 } } } },
        /invalid JSON schema/,
      ],
      [
        {
          input: [
            { role: 'user', content: [{ type: 'input_image', file_id: 'f', detail: 'auto' }] },
          ],
        },
        /image_url/,
      ],
    ];
    for (const [body, message] of cases) {
      expect(() => parseResponsesRequest(body)).toThrow(InvalidRequestError);
      expect(() => parseResponsesRequest(body)).toThrow(message);
    }
  });
});
