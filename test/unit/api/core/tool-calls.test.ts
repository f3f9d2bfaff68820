import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../../src/errors.ts';
import { callId, parseToolCalls, renderCall } from '../../../../src/api/core/index.ts';
import { AUTO, block, RUN_CODE, WEATHER } from './fixtures.ts';

const args = (text: string): unknown[] =>
  parseToolCalls(text, AUTO).calls.map((c) => JSON.parse(c.arguments) as unknown);

describe('parseToolCalls: the plain form', () => {
  it('reads one call, keeps the prose around it, and folds the blank lines', () => {
    const text = `Let me check.\n\n${block('{"name":"get_weather","arguments":{"city":"Paris"}}')}\n\nDone.`;
    const parsed = parseToolCalls(text, AUTO);
    expect(parsed.text).toBe('Let me check.\n\nDone.');
    expect(parsed.calls).toEqual([
      {
        id: callId('get_weather', '{"city":"Paris"}', 0),
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      },
    ]);
    expect(parsed.problems).toEqual([]);
  });

  it('reads two calls in a row, with ids that differ by index', () => {
    const one = block('{"name":"get_weather","arguments":{"city":"Oslo"}}');
    const parsed = parseToolCalls(`${one}\n${one}`, AUTO);
    expect(parsed.text).toBe('');
    expect(parsed.calls.map((c) => c.name)).toEqual(['get_weather', 'get_weather']);
    expect(parsed.calls[0]?.id).not.toBe(parsed.calls[1]?.id);
    expect(parsed.calls[0]?.id).toMatch(/^call_[0-9a-f]{24}$/);
  });

  it('gives the same ids when the same answer is parsed again', () => {
    const text = block('{"name":"run_code","arguments":{"code":"print(1)"}}');
    expect(parseToolCalls(text, AUTO).calls).toEqual(parseToolCalls(text, AUTO).calls);
  });

  it('reads a JSON array of calls in one block, and "parameters" or string arguments', () => {
    const body =
      '[{"name":"get_weather","parameters":{"city":"Rome"}},' +
      '{"name":"run_code","arguments":"{\\"code\\":\\"1+1\\"}"}]';
    expect(args(block(body))).toEqual([{ city: 'Rome' }, { code: '1+1' }]);
  });

  it('survives a value full of backticks, even a fence line inside a string', () => {
    const code = '```js\nconsole.log(`x`)\n```\n````';
    const text = block(JSON.stringify({ name: 'run_code', arguments: { code } }));
    expect(args(text)).toEqual([{ code }]);
  });

  it('accepts longer fences and tilde fences', () => {
    expect(args(block('{"name":"get_weather","arguments":{"city":"A"}}', '````'))).toHaveLength(1);
    expect(args(block('{"name":"get_weather","arguments":{"city":"B"}}', '~~~'))).toEqual([
      { city: 'B' },
    ]);
  });

  it('reads pretty-printed JSON across lines', () => {
    const body = '{\n  "name": "get_weather",\n  "arguments": {\n    "city": "Lima"\n  }\n}';
    expect(args(block(body))).toEqual([{ city: 'Lima' }]);
  });

  it('leaves other code blocks and inline mentions as prose', () => {
    const text = 'Use ```tool-call blocks.\n```python\nprint(1)\n```\n```tool-calls\n{}\n```';
    const parsed = parseToolCalls(text, AUTO);
    expect(parsed.calls).toEqual([]);
    expect(parsed.text).toBe(text);
  });
});

describe('parseToolCalls: what Gemini web does to text', () => {
  it('reads a fence that arrived Markdown-escaped, with escaped JSON inside', () => {
    const text =
      'Sure\\!\n\\`\\`\\`tool\\-call\n{"name":"get\\_weather","arguments":{"city":"Ri\\*o","tags":\\["a\\_b"\\]}}\n\\`\\`\\`';
    const parsed = parseToolCalls(text, AUTO);
    expect(parsed.text).toBe('Sure\\!');
    expect(parsed.calls.map((c) => [c.name, JSON.parse(c.arguments) as unknown])).toEqual([
      ['get_weather', { city: 'Ri*o', tags: ['a_b'] }],
    ]);
  });

  it('keeps JSON escapes while removing Markdown ones', () => {
    const text = block('{"name":"run\\_code","arguments":{"code":"say \\"hi\\"\\\\n \\_ok"},}');
    expect(args(text)).toEqual([{ code: 'say "hi"\\n _ok' }]);
  });

  it('reads tool_call as the info string, HTML entities, CRLF and NFC', () => {
    const text =
      '```tool_call\r\n{&quot;name&quot;:&quot;get_weather&quot;,&quot;arguments&quot;:{&quot;city&quot;:&quot;Cafe\u0301&quot;}}\r\n```\r\n';
    expect(args(text)).toEqual([{ city: 'Caf\u00e9' }]);
  });

  it('repairs a trailing comma and raw line breaks inside strings', () => {
    const text = block('{"name":"run_code","arguments":{"code":"a\nb",},}');
    expect(args(text)).toEqual([{ code: 'a\nb' }]);
  });

  it('takes a missing closing fence at the end, and a new opener as the close of the last', () => {
    const open = '```tool-call\n{"name":"get_weather","arguments":{"city":"X"}}\n';
    expect(args(`${open}${open}`)).toEqual([{ city: 'X' }, { city: 'X' }]);
  });
});

describe('parseToolCalls: declared tools and schemas', () => {
  it('drops calls to undeclared tools, valid or broken', () => {
    const parsed = parseToolCalls(
      `${block('{"name":"rm_rf","arguments":{}}')}\n${block('{"name":"nope", "arguments": {')}`,
      AUTO,
    );
    expect(parsed.calls).toEqual([]);
    expect(parsed.dropped).toEqual([
      { name: 'rm_rf', reason: 'undeclared' },
      { name: 'nope', reason: 'undeclared' },
    ]);
    expect(parsed.problems).toEqual([]);
  });

  it('coerces toward the schema and keeps values that already have their type', () => {
    const body =
      '{"name":"get_weather","arguments":{"city":42,"days":"3","metric":"true","tags":"x"}}';
    expect(args(block(body))).toEqual([{ city: '42', days: 3, metric: true, tags: ['x'] }]);
    const typed =
      '{"name":"get_weather","arguments":{"city":"P","days":2,"metric":false,"tags":["a"]}}';
    expect(args(block(typed))).toEqual([{ city: 'P', days: 2, metric: false, tags: ['a'] }]);
  });

  it('reports a call that fails its schema as a problem, never as a call', () => {
    const parsed = parseToolCalls(
      block('{"name":"get_weather","arguments":{"days":0,"extra":1}}'),
      AUTO,
    );
    expect(parsed.calls).toEqual([]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]?.name).toBe('get_weather');
    expect(parsed.problems[0]?.errors.join('\n')).toMatch(/required property 'city'/);
    expect(parsed.problems[0]?.errors.join('\n')).toMatch(/\/days must be >= 1/);
  });

  it('reports bad JSON with the name it could read', () => {
    const parsed = parseToolCalls(block('{"name":"get_weather","arguments":{"city":}'), AUTO);
    expect(parsed.problems).toEqual([
      { name: 'get_weather', errors: [expect.stringMatching(/not valid JSON/)] },
    ]);
  });

  it('reports an empty block and a block without a name', () => {
    const parsed = parseToolCalls(`${block('')}\n${block('{"arguments":{}}')}`, AUTO);
    expect(parsed.problems.map((p) => p.errors[0])).toEqual([
      'The tool-call block is empty.',
      'The tool call has no "name".',
    ]);
  });

  it('keeps only the first call when parallel calls are off', () => {
    const two = `${block('{"name":"get_weather","arguments":{"city":"A"}}')}\n${block('{"name":"run_code","arguments":{"code":"1"}}')}`;
    const parsed = parseToolCalls(two, { ...AUTO, parallelToolCalls: false });
    expect(parsed.calls.map((c) => c.name)).toEqual(['get_weather']);
    expect(parsed.dropped).toEqual([{ name: 'run_code', reason: 'not_parallel' }]);
  });

  it('exposes only the named tool for a named choice, and none for none', () => {
    const text = `${block('{"name":"get_weather","arguments":{"city":"A"}}')}\n${block('{"name":"run_code","arguments":{"code":"1"}}')}`;
    const named = parseToolCalls(text, { ...AUTO, toolChoice: { type: 'tool', name: 'run_code' } });
    expect(named.calls.map((c) => c.name)).toEqual(['run_code']);
    const none = parseToolCalls(text, { ...AUTO, toolChoice: { type: 'none' } });
    expect(none.calls).toEqual([]);
    expect(none.text).toBe('');
  });

  it('rejects a tool schema that ajv cannot compile as a 400', () => {
    const bad = {
      ...WEATHER,
      parameters: { type: 'object', properties: { a: { type: 'nonsense' } } },
    };
    expect(() => parseToolCalls('x', { ...AUTO, tools: [bad] })).toThrow(InvalidRequestError);
  });

  it('reports a call whose arguments nest 5000 deep as a problem, never overflowing', () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const parsed = parseToolCalls(block(`{"name":"run_code","arguments":${deep}}`), AUTO);
    expect(parsed.calls).toEqual([]);
    expect(parsed.problems).toEqual([
      {
        name: 'run_code',
        errors: [expect.stringContaining('nested more than 128 levels') as unknown],
      },
    ]);
  });

  it('reads back what renderCall writes (history round trip)', () => {
    const call = { name: RUN_CODE.name, arguments: '{"code":"```\\nx\\n```","language":"md"}' };
    const parsed = parseToolCalls(`Running.\n${renderCall(call)}`, AUTO);
    expect(parsed.calls.map((c) => c.arguments)).toEqual([call.arguments]);
    expect(parsed.text).toBe('Running.');
  });
});

describe('parseToolCalls: a re-ask continuing a stream', () => {
  it('numbers calls from firstCallIndex, so ids and indexes do not repeat', () => {
    const text = block('{"name":"get_weather","arguments":{"city":"A"}}');
    const first = parseToolCalls(text, AUTO).calls[0];
    const again = parseToolCalls(text, { ...AUTO, firstCallIndex: 2 }).calls[0];
    expect(again?.id).toBe(callId('get_weather', '{"city":"A"}', 2));
    expect(again?.id).not.toBe(first?.id);
    const one = parseToolCalls(`${text}\n${text}`, {
      ...AUTO,
      firstCallIndex: 1,
      parallelToolCalls: false,
    });
    expect(one.calls).toHaveLength(1);
  });
});

describe('parseToolCalls: names in OpenAI style', () => {
  it('reads functions.<name> as the declared tool, and drops it when undeclared', () => {
    const parsed = parseToolCalls(
      `${block('{"name":"functions.get_weather","arguments":{"city":"A"}}')}\n${block('{"name":"functions.nope","arguments":{}}')}`,
      AUTO,
    );
    expect(parsed.calls.map((c) => c.name)).toEqual(['get_weather']);
    expect(parsed.dropped).toEqual([{ name: 'functions.nope', reason: 'undeclared' }]);
  });
});

describe('parseToolCalls: a json fence used for a call', () => {
  it('reads a ```json block that calls a declared tool', () => {
    const text = 'Let me see.\n```json\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n';
    const parsed = parseToolCalls(text, AUTO);
    expect(parsed.text).toBe('Let me see.');
    expect(parsed.calls.map((c) => c.arguments)).toEqual(['{"city":"Oslo"}']);
  });

  it('leaves other ```json blocks as prose, exactly as written', () => {
    for (const json of [
      '{"name":"get_weather"}',
      '{"name":"unknown_tool","arguments":{}}',
      '{"a": 1}',
      '{"name":"get_weather","arguments":{"city":',
    ]) {
      const text = `Example:\n\`\`\`json\n${json}\n\`\`\`\nEnd.`;
      const parsed = parseToolCalls(text, AUTO);
      expect(parsed.text).toBe(text);
      expect(parsed.calls).toEqual([]);
      expect(parsed.problems).toEqual([]);
    }
  });

  it('keeps an unclosed prose ```json block at the end', () => {
    const text = 'See:\n```json\n{"a": 1}';
    expect(parseToolCalls(text, AUTO).text).toBe(text);
  });
});
