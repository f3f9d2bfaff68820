import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src/errors.ts';
import { renderPrompt } from '../../../src/api/core/index.ts';
import { chatTurnOf } from '../../../src/api/openai/chat-request.ts';
import { parseChatRequest } from '../../../src/api/openai/chat-schema.ts';

const turnOf = (body: Record<string, unknown>) => chatTurnOf(parseChatRequest(body));
const prompt = (messages: unknown[]) => renderPrompt(turnOf({ messages }), { continued: false });

describe('OpenAI messages -> prompt', () => {
  it('sends a lone user message as it is', () => {
    expect(prompt([{ role: 'user', content: 'Hello 👋 你好' }]).text).toBe('Hello 👋 你好');
  });

  it('puts system first, then history, then the last user turn', () => {
    const p = prompt([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'developer', content: 'Answer in French.' },
      { role: 'user', content: [{ type: 'text', text: 'How are you?' }] },
    ]);
    expect(p.text).toBe(
      'System instructions:\nBe brief.\n\nAnswer in French.\n\n' +
        'Conversation so far:\n[User]: Hi\n[Assistant]: Hello!\n\n[User]: How are you?',
    );
  });

  it('renders tool calls and results back, with a null assistant content', () => {
    const p = prompt([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '12 C' },
    ]);
    expect(p.text).toContain('[Assistant]: ```tool-call');
    expect(p.text).toContain('"get_weather"');
    expect(p.text).toContain('[Tool result: get_weather (call_1)]');
    expect(p.text).toContain('12 C');
  });

  it('rejects a conversation whose last message is an answer', () => {
    expect(() =>
      prompt([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ]),
    ).toThrow(InvalidRequestError);
  });
});

describe('parseChatRequest', () => {
  const bad = (body: unknown) => {
    try {
      chatTurnOf(parseChatRequest(body));
    } catch (err) {
      return err as InvalidRequestError;
    }
    throw new Error('expected a 400');
  };
  const user = [{ role: 'user', content: 'x' }];

  it('rejects missing, empty and malformed messages with a 400 naming the field', () => {
    expect(bad({ model: 'x' }).param).toBe('messages');
    expect(bad({ messages: [] }).message).toMatch(/at least one message/);
    expect(bad({ messages: [{ role: 'wizard', content: 'hi' }] }).message).toMatch(/Invalid role/);
    expect(bad({ messages: [{ role: 'user', content: 42 }] }).status).toBe(400);
    expect(
      bad({ messages: [{ role: 'user', content: [{ type: 'audio', data: 'x' }] }] }).status,
    ).toBe(400);
    expect(bad([1, 2]).message).toMatch(/JSON object/);
    expect(bad({ messages: user, conversation_id: '../etc' }).param).toBe('conversation_id');
  });

  it('refuses n>1, more than 4 stops, bad tools and bad schemas with a clear 400', () => {
    expect(bad({ messages: user, n: 2 }).message).toMatch(/only n=1/);
    expect(bad({ messages: user, stop: ['a', 'b', 'c', 'd', 'e'] }).param).toBe('stop');
    expect(bad({ messages: user, tools: [{ type: 'web_search' }] }).message).toMatch(
      /not supported/,
    );
    expect(bad({ messages: user, tool_choice: 'required' }).param).toBe('tool_choice');
    const format = { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'nope' } } };
    expect(bad({ messages: user, response_format: format }).status).toBe(400);
  });

  it('accepts the OpenAI shapes, ignores sampling and unknown fields, defaults the model', () => {
    const turn = turnOf({
      messages: [
        {
          role: 'user',
          content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }],
        },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      top_p: 0.5,
      seed: 7,
      user: 'u',
      n: 1,
      presence_penalty: 1,
      logprobs: false,
      some_future_field: { a: 1 },
      stop: 'END',
      max_tokens: 5,
      max_completion_tokens: 9,
    });
    expect(renderPrompt(turn, { continued: false }).images).toEqual(['data:image/png;base64,AA==']);
    expect(turn.stop).toEqual(['END']);
    expect(turn.maxTokens).toBe(9);
    expect(parseChatRequest({ messages: user }).model).toBe('gemini-default');
  });
});
