import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../../src/errors.ts';
import {
  AnswerStream,
  applyParallel,
  DEFAULT_TURN,
  nextStep,
  choiceReaskPrompt,
  choiceSatisfied,
  extractJson,
  finishAnswer,
  parseStructured,
  renderFormatPrompt,
  repairPrompt,
  structuredRepairPrompt,
  summarize,
  validateResponseFormat,
  type AnswerOptions,
  type ResponseFormat,
} from '../../../../src/api/core/index.ts';
import { AUTO, block, chunkings, WEATHER } from './fixtures.ts';

const OPTIONS: AnswerOptions = { ...AUTO, stop: [], maxTokens: null };
const CALL = block('{"name":"get_weather","arguments":{"city":"Oslo"}}');
const A = { id: 'a', name: 'get_weather', arguments: '{}' };
const B = { id: 'b', name: 'run_code', arguments: '{}' };

describe('tool_choice', () => {
  it('checks the one-re-ask rule', () => {
    expect(choiceSatisfied({ type: 'auto' }, [])).toBe(true);
    expect(choiceSatisfied({ type: 'none' }, [])).toBe(true);
    expect(choiceSatisfied({ type: 'required' }, [])).toBe(false);
    expect(choiceSatisfied({ type: 'required' }, [A])).toBe(true);
    expect(choiceSatisfied({ type: 'tool', name: 'run_code' }, [A])).toBe(false);
    expect(choiceSatisfied({ type: 'tool', name: 'run_code' }, [A, B])).toBe(true);
  });

  it('keeps only the first call without parallel calls', () => {
    expect(applyParallel([A, B], false)).toEqual([A]);
    expect(applyParallel([A, B], true)).toEqual([A, B]);
  });

  it('builds re-ask prompts that restate the tools and the errors', () => {
    const reask = choiceReaskPrompt([WEATHER], { type: 'tool', name: 'get_weather' }, true);
    expect(reask).toMatch(/^Your previous answer did not call the tool get_weather/);
    expect(reask).toContain('=== TOOLS ===');
    const repair = repairPrompt(
      [{ name: 'get_weather', errors: ["(root) must have required property 'city'"] }],
      [WEATHER],
      { type: 'auto' },
      true,
    );
    expect(repair).toContain("- get_weather: (root) must have required property 'city'");
    expect(repair).toContain('=== END OF TOOLS ===');
  });
});

describe('structured output', () => {
  const schema: ResponseFormat = {
    type: 'json_schema',
    name: 'person',
    schema: {
      type: 'object',
      properties: { name: { type: 'string' }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    },
  };

  it('renders the instruction with the schema', () => {
    expect(renderFormatPrompt({ type: 'text' })).toBe('');
    expect(renderFormatPrompt({ type: 'json_object' })).toContain('one JSON object only');
    expect(renderFormatPrompt(schema)).toContain('"person"');
    expect(renderFormatPrompt(schema)).toContain('"required":["name","age"]');
  });

  it('strips fences and prose, coerces and validates', () => {
    const text = 'Here you go:\n```json\n{"name": "Ada", "age": "36"}\n```\nAnything else?';
    expect(parseStructured(text, schema)).toEqual({
      ok: true,
      value: { name: 'Ada', age: 36 },
      json: '{"name":"Ada","age":36}',
    });
    expect(parseStructured('{"name":"Bo","age":3}', schema)).toMatchObject({ ok: true });
    expect(
      parseStructured('\\`\\`\\`json\n{"name": "C\\_d", "age": 1,}\n\\`\\`\\`', schema),
    ).toMatchObject({
      ok: true,
      value: { name: 'C_d', age: 1 },
    });
  });

  it('asks for a repair, never overflows, when the model writes JSON nested 5000 deep', () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    expect(parseStructured(deep, { type: 'json_object' })).toEqual({
      ok: false,
      errors: [
        'The answer is not valid JSON: JSON nested more than 128 levels deep is not accepted.',
      ],
    });
  });

  it('asks for a repair when the JSON does not pass', () => {
    const missing = parseStructured('```json\n{"name": "Ada"}\n```', schema);
    expect(missing).toEqual({ ok: false, errors: ["(root) must have required property 'age'"] });
    expect(parseStructured('no json here', schema)).toMatchObject({ ok: false });
    expect(parseStructured('[1,2]', { type: 'json_object' })).toEqual({
      ok: false,
      errors: ['The answer must be a JSON object.'],
    });
    expect(structuredRepairPrompt(['bad'], schema)).toContain('- bad');
  });

  it('finds the JSON in a four-backtick fence and without fences', () => {
    expect(extractJson('````json\n{"a":"```"}\n````')).toBe('{"a":"```"}');
    expect(extractJson('Sure: {"a": [1]} ok')).toBe('{"a": [1]}');
  });

  it('rejects a schema that cannot compile before anything is sent', () => {
    expect(() =>
      validateResponseFormat({ type: 'json_schema', name: 'x', schema: { type: 12 } }),
    ).toThrow(InvalidRequestError);
  });
});

describe('AnswerStream', () => {
  it('finishes with tool_calls when calls were made', () => {
    const summary = finishAnswer(`Looking.\n${CALL}`, OPTIONS);
    expect(summary.reason).toBe('tool_calls');
    expect(summary.text).toBe('Looking.');
    expect(summary.calls).toHaveLength(1);
    expect(summary.outputTokens).toBeGreaterThan(0);
  });

  it('cuts at a stop sequence, drops calls after it, and names the sequence', () => {
    const summary = finishAnswer(`One. STOP two.\n${CALL}`, { ...OPTIONS, stop: ['STOP'] });
    expect(summary).toMatchObject({
      text: 'One. ',
      reason: 'stop_sequence',
      stopSequence: 'STOP',
      calls: [],
    });
  });

  it('cuts at max tokens with reason length', () => {
    const summary = finishAnswer('one two three four five six', { ...OPTIONS, maxTokens: 2 });
    expect(summary).toMatchObject({ text: 'one two ', reason: 'length' });
  });

  it('passes prose straight through when no tools are declared', () => {
    const summary = finishAnswer('```tool-call\n{}\n```', { ...OPTIONS, tools: [] });
    expect(summary).toMatchObject({ text: '```tool-call\n{}\n```', reason: 'stop', calls: [] });
  });

  it('reports problems for the re-ask and marks itself finished after a limit', () => {
    const bad = finishAnswer(block('{"name":"get_weather","arguments":{}}'), OPTIONS);
    expect(bad.problems).toHaveLength(1);
    const stream = new AnswerStream({ ...OPTIONS, stop: ['X'] });
    stream.push('aXb');
    expect(stream.finished).toBe(true);
    expect(stream.push('more')).toEqual([]);
    expect(stream.end()).toEqual([]);
  });

  it('gives the same summary for any chunking, with stops and limits', () => {
    const text = `Intro 🌍 text. ${CALL}\nMore text END here and\n${CALL}`;
    for (const options of [
      OPTIONS,
      { ...OPTIONS, stop: ['END'] },
      { ...OPTIONS, maxTokens: 4 },
      { ...OPTIONS, stop: ['\n'], parallelToolCalls: false },
    ]) {
      const whole = finishAnswer(text, options);
      fc.assert(
        fc.property(chunkings(text), (chunks) => {
          const stream = new AnswerStream(options);
          const events = [...chunks.flatMap((c) => stream.push(c)), ...stream.end()];
          expect(summarize(events)).toEqual(whole);
          expect(events.filter((e) => e.type === 'finish')).toHaveLength(1);
        }),
        { numRuns: 100 },
      );
    }
  });
});

describe('nextStep: the one-re-ask rule', () => {
  const turn = { ...DEFAULT_TURN, tools: [WEATHER], messages: [] };
  const summary = (text: string, t = turn) => finishAnswer(text, t);

  it('is done when the answer is usable', () => {
    expect(nextStep(turn, summary('Hello'), false)).toEqual({ kind: 'done', json: null });
    expect(nextStep(turn, summary(CALL), false)).toEqual({ kind: 'done', json: null });
  });

  it('re-asks once for a broken call, then fails', () => {
    const bad = summary(block('{"name":"get_weather","arguments":{}}'));
    const first = nextStep(turn, bad, false);
    expect(first).toMatchObject({ kind: 'reask', why: 'invalid_tool_call' });
    expect(first.kind === 'reask' && first.prompt).toContain("required property 'city'");
    const second = nextStep(turn, bad, true);
    expect(second).toMatchObject({ kind: 'fail', why: 'invalid_tool_call' });
    expect(second.kind === 'fail' && second.message).toMatch(/even when asked again/);
  });

  it('re-asks when a required or named choice was ignored', () => {
    const required = { ...turn, toolChoice: { type: 'required' as const } };
    expect(nextStep(required, summary('No tools.', required), false)).toMatchObject({
      kind: 'reask',
      why: 'tool_choice_unmet',
    });
    expect(nextStep(required, summary('No tools.', required), true)).toMatchObject({
      kind: 'fail',
    });
    expect(nextStep(required, summary(CALL, required), false)).toMatchObject({ kind: 'done' });
  });

  it('validates structured output and hands back the JSON text', () => {
    const json = { ...turn, tools: [], responseFormat: { type: 'json_object' as const } };
    expect(nextStep(json, summary('```json\n{"a": 1}\n```', json), false)).toEqual({
      kind: 'done',
      json: '{"a":1}',
    });
    expect(nextStep(json, summary('not json', json), false)).toMatchObject({
      kind: 'reask',
      why: 'invalid_json_output',
    });
  });

  it('never re-asks an answer cut by a limit', () => {
    const cut = { ...turn, toolChoice: { type: 'required' as const }, maxTokens: 1 };
    expect(nextStep(cut, summary('one two three', cut), false)).toEqual({
      kind: 'done',
      json: null,
    });
  });
});
