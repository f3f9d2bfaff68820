import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../../src/errors.ts';
import {
  DEFAULT_TURN,
  parseToolCalls,
  renderPrompt,
  renderToolPrompt,
  stripInstructionEcho,
  TOOLS_BEGIN,
  TOOLS_END,
  type ChatTurn,
  type TurnMessage,
} from '../../../../src/api/core/index.ts';
import { AUTO, RUN_CODE, WEATHER } from './fixtures.ts';

const user = (text: string, images: string[] = []): TurnMessage => ({
  role: 'user',
  content: [{ type: 'text', text }, ...images.map((url) => ({ type: 'image' as const, url }))],
});
const turn = (messages: TurnMessage[], extra: Partial<ChatTurn> = {}): ChatTurn => ({
  ...DEFAULT_TURN,
  messages,
  ...extra,
});
const CALL = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };

describe('renderToolPrompt', () => {
  it('lists every tool with its schema, the call form and the rules, between markers', () => {
    const text = renderToolPrompt([WEATHER, RUN_CODE], { type: 'auto' }, true);
    expect(text.startsWith(TOOLS_BEGIN)).toBe(true);
    expect(text.endsWith(TOOLS_END)).toBe(true);
    expect(text).toContain('- get_weather: Current weather for a city.');
    expect(text).toContain(JSON.stringify(WEATHER.parameters));
    expect(text).toContain('```tool-call\n{"name": "tool_name"');
    expect(text).toContain('several blocks');
    expect(text).toContain('Call a tool only when it helps');
  });

  it('states the choice and the parallel rule', () => {
    expect(renderToolPrompt([WEATHER], { type: 'required' }, false)).toContain(
      'You must call at least one tool in this answer.',
    );
    expect(renderToolPrompt([WEATHER], { type: 'required' }, false)).toContain(
      'Call at most one tool per answer.',
    );
    const named = renderToolPrompt([WEATHER, RUN_CODE], { type: 'tool', name: 'run_code' }, true);
    expect(named).toContain('You must call the tool run_code');
    expect(named).not.toContain('get_weather');
  });

  it('is empty for tool_choice none or no tools', () => {
    expect(renderToolPrompt([WEATHER], { type: 'none' }, true)).toBe('');
    expect(renderToolPrompt([], { type: 'auto' }, true)).toBe('');
  });

  it('has an example that the parser drops, since tool_name is not declared', () => {
    const parsed = parseToolCalls(renderToolPrompt([WEATHER], { type: 'auto' }, true), AUTO);
    expect(parsed.calls).toEqual([]);
    expect(parsed.dropped).toEqual([{ name: 'tool_name', reason: 'undeclared' }]);
  });
});

describe('renderPrompt', () => {
  it('sends a lone user message as it is, with its images', () => {
    const p = renderPrompt(turn([user('Hi 👋', ['data:image/png;base64,AA'])]), {
      continued: false,
    });
    expect(p).toEqual({ text: 'Hi 👋', images: ['data:image/png;base64,AA'] });
  });

  it('renders system, tools, history with calls and results, then the current turn', () => {
    const p = renderPrompt(
      turn(
        [
          { role: 'system', text: 'Be brief.' },
          user('Weather in Paris?', ['https://x/a.png']),
          { role: 'assistant', text: 'Checking.', toolCalls: [CALL] },
          { role: 'tool', callId: 'call_1', content: '{"temp": "21°C", "note": "```"}' },
          { role: 'assistant', text: 'It is 21°C.', toolCalls: [] },
          user('And tomorrow?'),
        ],
        { tools: [WEATHER] },
      ),
      { continued: false },
    );
    const [system, tools, history, current] = p.text.split(
      /\n\n(?=System|===|Conversation|\[User\]: And)/,
    );
    expect(system).toBe('System instructions:\nBe brief.');
    expect(tools?.startsWith(TOOLS_BEGIN)).toBe(true);
    expect(history).toBe(
      'Conversation so far:\n[User]: Weather in Paris?\n(attached: image 1)\n[Assistant]: Checking.\n' +
        '```tool-call\n{"name":"get_weather","arguments":{"city":"Paris"}}\n```\n' +
        '[Tool result: get_weather (call_1)]:\n````tool-result\n{"temp": "21°C", "note": "```"}\n````\n' +
        '[Assistant]: It is 21°C.',
    );
    expect(current).toBe('[User]: And tomorrow?');
    expect(p.images).toEqual(['https://x/a.png']);
  });

  it('ends with the tool results and a nudge when they are the current turn', () => {
    const messages: TurnMessage[] = [
      user('Weather?'),
      { role: 'assistant', text: '', toolCalls: [CALL] },
      { role: 'tool', callId: 'call_1', name: 'get_weather', content: 'sunny', isError: false },
    ];
    const full = renderPrompt(turn(messages, { tools: [WEATHER] }), { continued: false });
    expect(full.text).toContain('[Assistant]: ```tool-call');
    expect(
      full.text.endsWith(
        '[Tool result: get_weather (call_1)]:\n```tool-result\nsunny\n```\n\n' +
          'Use these tool results to continue: answer the user, or call tools again.',
      ),
    ).toBe(true);
    const continued = renderPrompt(turn(messages, { tools: [WEATHER] }), { continued: true });
    expect(continued.text.startsWith(TOOLS_BEGIN)).toBe(true);
    expect(continued.text).not.toContain('Conversation so far');
    expect(continued.text).not.toContain('Weather?');
  });

  it('labels a failed tool as an error', () => {
    const p = renderPrompt(
      turn([
        user('x'),
        { role: 'assistant', text: '', toolCalls: [CALL] },
        { role: 'tool', callId: 'call_1', content: 'boom', isError: true },
      ]),
      { continued: true },
    );
    expect(p.text).toContain('[Tool error: get_weather (call_1)]');
  });

  it('sends only the new input when continued, and its images only', () => {
    const p = renderPrompt(
      turn([
        user('a', ['img1']),
        { role: 'assistant', text: 'b', toolCalls: [] },
        user('c', ['img2']),
      ]),
      { continued: true },
    );
    expect(p).toEqual({ text: 'c', images: ['img2'] });
  });

  it('adds the output-format block for structured output', () => {
    const p = renderPrompt(turn([user('List')], { responseFormat: { type: 'json_object' } }), {
      continued: true,
    });
    expect(p.text).toMatch(
      /^=== OUTPUT FORMAT ===\n[\s\S]*=== END OF OUTPUT FORMAT ===\n\n\[User\]: List$/,
    );
  });

  it('refuses a conversation that ends with the assistant', () => {
    expect(() =>
      renderPrompt(turn([user('a'), { role: 'assistant', text: 'b', toolCalls: [] }]), {
        continued: false,
      }),
    ).toThrow(InvalidRequestError);
    expect(() => renderPrompt(turn([]), { continued: false })).toThrow(InvalidRequestError);
  });
});

describe('stripInstructionEcho', () => {
  it('removes the tool block, plain or Markdown-escaped, and a truncated one', () => {
    const block = renderToolPrompt([WEATHER], { type: 'auto' }, true);
    expect(stripInstructionEcho(`Before\n${block}\nAfter`)).toBe('Before\nAfter');
    const escaped = block.replace(/[=_`[\]]/g, (c) => `\\${c}`);
    expect(stripInstructionEcho(`Hi\n${escaped}\nthere`)).toBe('Hi\nthere');
    expect(stripInstructionEcho(`Keep\n${TOOLS_BEGIN}\nhalf of it`)).toBe('Keep');
  });

  it('is applied to earlier messages when history is rendered', () => {
    const echo = `${renderToolPrompt([WEATHER], { type: 'auto' }, true)}\nreal question`;
    const p = renderPrompt(
      turn([user(echo), { role: 'assistant', text: 'ok', toolCalls: [] }, user('next')]),
      {
        continued: false,
      },
    );
    expect(p.text).toBe(
      'Conversation so far:\n[User]: real question\n[Assistant]: ok\n\n[User]: next',
    );
  });
});

describe('tools and structured output together', () => {
  it('says the JSON rule binds the answer after tool results', () => {
    const p = renderPrompt(
      turn([user('x')], { tools: [WEATHER], responseFormat: { type: 'json_object' } }),
      { continued: true },
    );
    expect(p.text).toContain(
      'When you call tools instead, this applies to your answer after their results.',
    );
    const alone = renderPrompt(turn([user('x')], { responseFormat: { type: 'json_object' } }), {
      continued: true,
    });
    expect(alone.text).not.toContain('When you call tools');
  });
});
