import { describe, expect, it } from 'vitest';
import { renderPrompt } from '../../../../src/api/core/index.ts';
import { createModelResolver, parseMessagesRequest } from '../../../../src/api/anthropic/index.ts';
import { InvalidRequestError, ModelNotFoundError } from '../../../../src/errors.ts';
import { WEATHER, resolve } from './fixtures.ts';

describe('parseMessagesRequest', () => {
  it('reads system blocks, images, tool_use history and tool_result turns', () => {
    const r = parseMessagesRequest(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Use metric.' },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Weather here?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 's' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                is_error: true,
                content: [
                  { type: 'text', text: 'no data' },
                  { type: 'image', source: { type: 'url', url: 'https://example.com/map.png' } },
                ],
              },
              { type: 'text', text: 'Try again.' },
            ],
          },
        ],
        tools: [WEATHER],
        tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
        stream: true,
        anthropic_beta_field: 1,
      },
      resolve,
    );
    expect(r).toMatchObject({
      requestedModel: 'claude-sonnet-4-5',
      model: 'gemini-3-flash',
      stream: true,
    });
    expect(r.turn.messages).toEqual([
      { role: 'system', text: 'Be brief.\nUse metric.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Weather here?' },
          { type: 'image', url: 'data:image/png;base64,AAAA' },
          { type: 'image', url: 'https://example.com/a.jpg' },
        ],
      },
      {
        role: 'assistant',
        text: 'Checking.',
        toolCalls: [{ id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { role: 'tool', callId: 'toolu_1', content: 'no data', isError: true },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Try again.' },
          { type: 'image', url: 'https://example.com/map.png' },
        ],
      },
    ]);
    expect(r.turn).toMatchObject({
      toolChoice: { type: 'tool', name: 'get_weather' },
      parallelToolCalls: false,
      stop: ['END'],
      maxTokens: 100,
      tools: [{ name: 'get_weather', description: 'Weather', parameters: WEATHER.input_schema }],
    });
    const prompt = renderPrompt(r.turn, { continued: false }).text;
    expect(prompt).toContain('[Tool error: get_weather (toolu_1)]');
  });

  it('maps tool_choice any/none/auto and takes our own model names as they are', () => {
    const base = {
      model: 'gemini-3-pro',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }],
      tools: [WEATHER],
    };
    expect(
      parseMessagesRequest({ ...base, tool_choice: { type: 'any' } }, resolve).turn.toolChoice,
    ).toEqual({ type: 'required' });
    expect(
      parseMessagesRequest({ ...base, tool_choice: { type: 'none' } }, resolve).turn.toolChoice,
    ).toEqual({ type: 'none' });
    const auto = parseMessagesRequest(base, resolve);
    expect(auto.turn.toolChoice).toEqual({ type: 'auto' });
    expect(auto.model).toBe('gemini-3-pro');
    expect(auto.turn.parallelToolCalls).toBe(true);
  });

  it('answers clear 400s (never a 500) for what it cannot honour', () => {
    const ok = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
    const cases: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ ...ok, max_tokens: undefined }, /^max_tokens:/],
      [{ ...ok, messages: [] }, /messages must hold at least one/],
      [
        { ...ok, tools: [{ type: 'web_search_20250305', name: 'web_search' }] },
        /tools\.0: tools of type 'web_search_20250305'/,
      ],
      [
        { ...ok, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] },
        /messages\.0\.content\.0: content of type 'document'/,
      ],
      [
        {
          ...ok,
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image', source: { type: 'base64', media_type: 'text/plain', data: 'x' } },
              ],
            },
          ],
        },
        /messages\.0\.content\.0/,
      ],
      [
        {
          ...ok,
          messages: [
            {
              role: 'user',
              content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'document' }] }],
            },
          ],
        },
        /messages\.0\.content\.0\.content\.0: content of type 'document'/,
      ],
      [
        { ...ok, tools: [WEATHER], tool_choice: { type: 'tool', name: 'other' } },
        /not among tools/,
      ],
      [
        { ...ok, output_config: { format: { type: 'json_schema', schema: { type: 5 } } } },
        /invalid JSON schema/,
      ],
    ];
    for (const [body, message] of cases) {
      expect(() => parseMessagesRequest(body)).toThrow(InvalidRequestError);
      expect(() => parseMessagesRequest(body)).toThrow(message);
    }
    expect(() => parseMessagesRequest({ ...ok, model: 'claude-unknown' }, resolve)).toThrow(
      ModelNotFoundError,
    );
  });
});

describe('createModelResolver', () => {
  it('takes globs anywhere in a name, the most specific first; our own names win over globs', () => {
    const resolveModel = createModelResolver({
      'claude-*': 'gemini-3-flash',
      'claude-*opus*': 'gemini-2.5-pro',
      '*': 'gemini-default',
    });
    expect(resolveModel('claude-opus-4-1-20250805')).toBe('gemini-2.5-pro');
    expect(resolveModel('claude-3-opus-latest')).toBe('gemini-2.5-pro');
    expect(resolveModel('claude-sonnet-4-5')).toBe('gemini-3-flash');
    expect(resolveModel('gemini-3-flash-thinking')).toBe('gemini-3-flash-thinking');
    expect(resolveModel('gpt-4o')).toBe('gemini-default');
    // Dots in a name are literal, not regex wildcards.
    expect(() => createModelResolver({ 'claude-4.5*': 'gemini-3-flash' })('claude-4x5')).toThrow(
      ModelNotFoundError,
    );
    expect(() => createModelResolver({ 'claude-*': 'gemini-9' })).toThrow(/gemini-9/);
  });

  it('maps exact names first, then the longest prefix; our names pass; unmapped claude-* is a 404', () => {
    const resolveModel = createModelResolver({
      'claude-*': 'gemini-3-flash',
      'claude-opus-*': 'gemini-3-pro',
      'claude-opus-4-1': 'gemini-2.5-pro',
    });
    expect(resolveModel('claude-opus-4-1')).toBe('gemini-2.5-pro');
    expect(resolveModel('claude-opus-4-5-20251101')).toBe('gemini-3-pro');
    expect(resolveModel('claude-haiku-4-5')).toBe('gemini-3-flash');
    expect(resolveModel('gemini-3-pro')).toBe('gemini-3-pro');
    expect(() => createModelResolver({})('claude-sonnet-4-5')).toThrow(ModelNotFoundError);
    const request = parseMessagesRequest(
      { model: 'claude-opus-4-5', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] },
      resolveModel,
    );
    expect(request).toMatchObject({ requestedModel: 'claude-opus-4-5', model: 'gemini-3-pro' });
  });
});
