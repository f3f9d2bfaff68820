import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src/errors.ts';
import { planPrompt } from '../../../src/api/prompt.ts';
import { messageImages, parseChatRequest } from '../../../src/api/schemas.ts';

describe('planPrompt', () => {
  it('sends a lone user message as it is', () => {
    const p = planPrompt([{ role: 'user', content: 'Hello 👋 你好' }]);
    expect(p.fullPrompt).toBe('Hello 👋 你好');
    expect(p.turnPrompt).toBe('Hello 👋 你好');
    expect(p.history).toEqual([]);
  });

  it('puts system first, then history, then the last user turn', () => {
    const p = planPrompt([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'developer', content: 'Answer in French.' },
      { role: 'user', content: [{ type: 'text', text: 'How are you?' }] },
    ]);
    expect(p.fullPrompt).toBe(
      'System instructions:\nBe brief.\n\nAnswer in French.\n\n' +
        'Conversation so far:\n[User]: Hi\n[Assistant]: Hello!\n\n[User]: How are you?',
    );
    expect(p.turnPrompt).toBe('How are you?');
    expect(p.history).toHaveLength(4);
  });

  it('rejects a conversation whose last message is not from the user', () => {
    expect(() =>
      planPrompt([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ]),
    ).toThrow(InvalidRequestError);
  });
});

describe('parseChatRequest', () => {
  const bad = (body: unknown) => {
    try {
      parseChatRequest(body);
    } catch (err) {
      return err as InvalidRequestError;
    }
    throw new Error('expected a 400');
  };

  it('rejects missing, empty and malformed messages with a 400 naming the field', () => {
    expect(bad({ model: 'x' }).param).toBe('messages');
    expect(bad({ messages: [] }).message).toMatch(/at least one message/);
    expect(bad({ messages: [{ role: 'wizard', content: 'hi' }] }).message).toMatch(/Invalid role/);
    expect(bad({ messages: [{ role: 'user', content: 42 }] }).status).toBe(400);
    expect(bad({ messages: [{ role: 'user', content: [{ type: 'audio', data: 'x' }] }] }).status).toBe(400);
    expect(bad([1, 2]).message).toMatch(/JSON object/);
    expect(bad({ messages: [{ role: 'user', content: 'x' }], conversation_id: '../etc' }).param).toBe('conversation_id');
  });

  it('accepts the OpenAI shapes and defaults the model', () => {
    const r = parseChatRequest({
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AA==' } }] }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
    });
    expect(r.model).toBe('gemini-default');
    expect(messageImages(r.messages[0]?.content)).toEqual(['data:image/png;base64,AA==']);
  });
});
