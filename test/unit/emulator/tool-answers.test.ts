import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  choiceReaskPrompt,
  collectToolEvents,
  createToolCallParser,
  DEFAULT_TURN,
  finishAnswer,
  parseStructured,
  parseToolCalls,
  renderPrompt,
  repairPrompt,
  structuredRepairPrompt,
  type ChatTurn,
  type ResponseFormat,
  type TurnMessage,
} from '../../../src/api/core/index.ts';
import { planAnswer } from '../../../src/emulator/answer.ts';
import { planProtocolAnswer } from '../../../src/emulator/tool-answers.ts';
import { AUTO, chunkings, RUN_CODE, WEATHER } from '../api/core/fixtures.ts';

const user = (text: string): TurnMessage => ({ role: 'user', content: [{ type: 'text', text }] });
const toolTurn = (text: string, extra: Partial<ChatTurn> = {}): ChatTurn => ({
  ...DEFAULT_TURN,
  tools: [WEATHER, RUN_CODE],
  messages: [user(text)],
  ...extra,
});
/** What the emulator answers to the first prompt of a chat. */
const answer = (turn: ChatTurn): string =>
  planProtocolAnswer(renderPrompt(turn, { continued: false }).text, []) ?? '';
const parse = (text: string) => parseToolCalls(text, AUTO);

describe('emulator: tool-call answers in the protocol form', () => {
  it('answers a call directive with prose and one call block', () => {
    const text = answer(toolTurn('What is the weather?\ncall get_weather {"city":"Paris"}'));
    expect(text).toBe(
      'I will use the tools for this.\n\n```tool-call\n{"name": "get_weather", "arguments": {"city":"Paris"}}\n```',
    );
    const parsed = parse(text);
    expect(parsed.text).toBe('I will use the tools for this.');
    expect(parsed.calls.map((c) => [c.name, c.arguments])).toEqual([
      ['get_weather', '{"city":"Paris"}'],
    ]);
  });

  it('makes two calls at once, and text after them', () => {
    const text = answer(
      toolTurn(
        'call get_weather {"city":"A"}\ncall run_code {"code":"```x```"}\ntool-mode: text-after',
      ),
    );
    const parsed = parse(text);
    expect(parsed.calls.map((c) => c.name)).toEqual(['get_weather', 'run_code']);
    expect(JSON.parse(parsed.calls[1]?.arguments ?? '')).toEqual({ code: '```x```' });
    expect(parsed.text).toBe('I will use the tools for this.\n\nThe results will follow.');
  });

  it('calls an undeclared tool, which the parser drops', () => {
    const parsed = parse(answer(toolTurn('call launch_missiles {}')));
    expect(parsed.calls).toEqual([]);
    expect(parsed.dropped).toEqual([{ name: 'launch_missiles', reason: 'undeclared' }]);
  });

  it('writes bad JSON (a repair is needed) and a repairable trailing comma', () => {
    const bad = parse(answer(toolTurn('call get_weather {"city":"A"}\ntool-mode: bad-json')));
    expect(bad.problems).toHaveLength(1);
    const comma = parse(
      answer(toolTurn('call get_weather {"city":"A"}\ntool-mode: trailing-comma')),
    );
    expect(comma.calls).toHaveLength(1);
  });

  it('escapes Markdown as Gemini web does, partly or fully, and the parser reads both', () => {
    for (const mode of ['escaped', 'escaped-all']) {
      const text = answer(
        toolTurn(`call get_weather {"city":"a_b [c]"}\ntool-mode: ${mode}, long-fence`),
      );
      expect(text).toContain('\\`\\`\\`\\`tool-call');
      expect(parse(text).calls.map((c) => JSON.parse(c.arguments) as unknown)).toEqual([
        { city: 'a_b [c]' },
      ]);
    }
  });

  it('leaves a block unclosed', () => {
    const text = answer(toolTurn('call get_weather {"city":"A"}\ntool-mode: no-close'));
    expect(text.endsWith('}')).toBe(true);
    expect(parse(text).calls).toHaveLength(1);
  });

  it('answers in prose without a call directive, and ignores the tools when told', () => {
    expect(parse(answer(toolTurn('Just say hi'))).calls).toEqual([]);
    const ignored = answer(
      toolTurn('call get_weather {}\ntool-mode: ignore', { toolChoice: { type: 'required' } }),
    );
    expect(ignored).toBe('I can answer that directly: call get_weather {}');
  });

  it('complies on the re-ask, from the directives of the earlier prompt', () => {
    const first = renderPrompt(
      toolTurn('call get_weather {"city":"Rome"}\ntool-mode: ignore', {
        toolChoice: { type: 'required' },
      }),
      { continued: false },
    ).text;
    const reask = choiceReaskPrompt([WEATHER, RUN_CODE], { type: 'required' }, true);
    const parsed = parse(planProtocolAnswer(reask, [first]) ?? '');
    expect(parsed.calls.map((c) => c.arguments)).toEqual(['{"city":"Rome"}']);
    const broken = renderPrompt(toolTurn('call get_weather {"city":"X"}\ntool-mode: bad-json'), {
      continued: false,
    }).text;
    const repair = repairPrompt(
      [{ name: 'get_weather', errors: ['bad'] }],
      [WEATHER],
      { type: 'auto' },
      true,
    );
    expect(parse(planProtocolAnswer(repair, [broken]) ?? '').calls).toHaveLength(1);
  });

  it('sums up tool results, replayed or continued, so a two-step loop ends', () => {
    const call = parse(answer(toolTurn('call get_weather {"city":"Oslo"}'))).calls[0];
    expect(call).toBeDefined();
    const messages: TurnMessage[] = [
      user('call get_weather {"city":"Oslo"}'),
      { role: 'assistant', text: '', toolCalls: call ? [call] : [] },
      { role: 'tool', callId: call?.id ?? '', content: '{"temp":-3}' },
    ];
    const turn = toolTurn('', { messages });
    for (const continued of [false, true]) {
      const text = planProtocolAnswer(renderPrompt(turn, { continued }).text, []) ?? '';
      expect(text).toBe('Here is what the tools returned:\n- get_weather: {"temp":-3}');
      expect(finishAnswer(text, { ...turn, stop: [], maxTokens: null }).reason).toBe('stop');
    }
  });

  it('is not used for prompts without a protocol block', () => {
    expect(planProtocolAnswer('call get_weather {}', [])).toBeNull();
    const plan = planAnswer({ prompt: 'hello', turn: 1, files: [], thinking: false });
    expect(plan.text).toMatch(/^Echo \(turn 1\): hello/);
  });
});

describe('emulator: structured-output answers', () => {
  const schema: ResponseFormat = {
    type: 'json_schema',
    name: 'city',
    schema: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        population: { type: 'integer', minimum: 10 },
        tags: { type: 'array', items: { type: 'string', enum: ['big', 'old'] } },
      },
      required: ['name', 'population', 'tags'],
    },
  };
  const structured = (text: string, format: ResponseFormat = schema): string =>
    answer({ ...DEFAULT_TURN, messages: [user(text)], responseFormat: format });

  it('answers a value made from the schema in a json fence', () => {
    const text = structured('Describe a city');
    expect(text).toBe('```json\n{"name":"example","population":10,"tags":["big"]}\n```');
    expect(parseStructured(text, schema)).toMatchObject({ ok: true });
  });

  it('answers the directive value, with prose, bare, or broken', () => {
    expect(
      structured('json {"name":"Oslo","population":700000,"tags":[]}\njson-mode: prose'),
    ).toMatch(/^Here is the JSON you asked for:\n\n```json\n\{"name":"Oslo"/);
    expect(structured('json {"a":1}\njson-mode: bare', { type: 'json_object' })).toBe('{"a":1}');
    const bad = structured('json-mode: bad');
    expect(parseStructured(bad, schema)).toMatchObject({ ok: false });
    const first = renderPrompt(
      { ...DEFAULT_TURN, messages: [user('json-mode: bad')], responseFormat: schema },
      { continued: false },
    ).text;
    const fixed = planProtocolAnswer(structuredRepairPrompt(['x'], schema), [first]) ?? '';
    expect(parseStructured(fixed, schema)).toMatchObject({ ok: true });
  });
});

describe('emulator: tools and structured output together', () => {
  it('calls first, then answers JSON once the results are in', () => {
    const format: ResponseFormat = { type: 'json_object' };
    const asked = toolTurn('call get_weather {"city":"A"}\njson {"temp":3}', {
      responseFormat: format,
    });
    const firstPrompt = renderPrompt(asked, { continued: false }).text;
    const first = planProtocolAnswer(firstPrompt, []) ?? '';
    const call = parse(first).calls[0];
    expect(call?.name).toBe('get_weather');
    const messages: TurnMessage[] = [
      user('call get_weather {"city":"A"}\njson {"temp":3}'),
      { role: 'assistant', text: '', toolCalls: call ? [call] : [] },
      { role: 'tool', callId: call?.id ?? '', content: '3' },
    ];
    const second = planProtocolAnswer(
      renderPrompt(toolTurn('', { messages, responseFormat: format }), { continued: true }).text,
      [firstPrompt],
    );
    expect(parseStructured(second ?? '', format)).toEqual({
      ok: true,
      value: { temp: 3 },
      json: '{"temp":3}',
    });
  });
});

describe('emulator shapes, streamed and whole', () => {
  const modes = [
    'plain',
    'escaped',
    'escaped-all',
    'text-after',
    'no-text',
    'bad-json',
    'trailing-comma',
    'no-close',
    'long-fence',
    'json-fence',
    'ignore',
  ];
  for (const mode of modes) {
    it(`parses the ${mode} shape the same in any chunking`, () => {
      const text = answer(
        toolTurn(
          `call get_weather {"city":"a_b 🌍"}\ncall run_code {"code":"\`\`\`\\nx\\n\`\`\`"}\ncall nope {}\ntool-mode: ${mode}`,
        ),
      );
      const whole = parse(text);
      fc.assert(
        fc.property(chunkings(text), (chunks) => {
          const parser = createToolCallParser(AUTO);
          const events = [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
          expect(collectToolEvents(events)).toEqual(whole);
        }),
        { numRuns: 60 },
      );
      if (mode === 'json-fence') {
        // A json block is only a call when it calls a declared tool; the rest stays prose.
        expect(whole.calls).toHaveLength(2);
        expect(whole.text).toContain('```json\n{"name": "nope", "arguments": {}}\n```');
      } else if (mode !== 'ignore') {
        expect(whole.dropped).toEqual([{ name: 'nope', reason: 'undeclared' }]);
        expect(whole.calls.length + whole.problems.length).toBe(2);
      }
    });
  }
});
