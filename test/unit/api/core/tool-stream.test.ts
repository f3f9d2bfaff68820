import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collectToolEvents,
  createToolCallParser,
  parseToolCalls,
  type ToolStreamEvent,
} from '../../../../src/api/core/index.ts';
import { AUTO, block, chunkings, wellFormed } from './fixtures.ts';

function streamEvents(chunks: readonly string[], options = AUTO): ToolStreamEvent[] {
  const parser = createToolCallParser(options);
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

const SHAPES: Record<string, string> = {
  plain: `Checking 🌍 the weather.\n\n${block('{"name":"get_weather","arguments":{"city":"Zürich","days":"2"}}')}\n\nOne moment ✨.`,
  escaped:
    'Voilà\\!\n\\`\\`\\`tool\\_call\n{"name":"get\\_weather","arguments":{"city":"a\\_b"}}\n\\`\\`\\`\n',
  twoCalls: `${block('{"name":"get_weather","arguments":{"city":"A"}}')}\n${block('{"name":"run_code","arguments":{"code":"x = `1`\\n```"}}', '````')}`,
  undeclaredAndBad: `Hmm.\n${block('{"name":"delete_all","arguments":{}}')}\n${block('{"name":"get_weather","arguments":{"city":')}\nafter`,
  noClose: 'Sure.\r\n```tool-call\r\n{"name":"get_weather","arguments":{"city":"Kyiv"}}',
  prose: 'No tools needed: `a` and ``b`` and\n``\n```js\nlet a = 1;\n```\n~~ done 👍🏽',
  jsonFence:
    'a\n```json\n{"name":"get_weather","arguments":{"city":"x"}}\n```\nb\n```json\n{"a": "😀"}\n```\nc',
  emojiEdges: '😀\n```tool-call\n{"name":"run_code","arguments":{"code":"😀😀"}}\n```\n😀',
};

describe('call ids per answer', () => {
  const text = SHAPES['twoCalls'] ?? '';
  const ids = (events: readonly ToolStreamEvent[]) =>
    collectToolEvents(events).calls.map((c) => c.id);

  it('gives the same call in two answers two ids, and every parse of one answer the same ones', () => {
    const one = { ...AUTO, callSeed: 'answer-1' };
    const whole = parseToolCalls(text, one).calls.map((c) => c.id);
    expect(whole).toHaveLength(2);
    expect(whole[0]).toMatch(/^call_[0-9a-f]{24}$/);
    expect(
      parseToolCalls(text, { ...AUTO, callSeed: 'answer-2' }).calls.map((c) => c.id),
    ).not.toContain(whole[0]);
    fc.assert(
      fc.property(chunkings(text), (chunks) => {
        const events = streamEvents(chunks, one);
        expect(ids(events)).toEqual(whole);
        expect(events.flatMap((e) => (e.type === 'call_start' ? [e.id] : []))).toEqual(whole);
      }),
      { numRuns: 50 },
    );
  });

  it('continues a re-ask numbering in the same answer without reusing an id', () => {
    const seed = { ...AUTO, callSeed: 'answer-1' };
    const first = parseToolCalls(text, seed).calls.map((c) => c.id);
    const reask = parseToolCalls(text, { ...seed, firstCallIndex: first.length });
    expect(reask.calls.map((c) => c.id).filter((id) => first.includes(id))).toEqual([]);
  });
});

describe('streamed tool parsing', () => {
  for (const [name, text] of Object.entries(SHAPES)) {
    it(`gives the same result as the whole parse for any chunking: ${name}`, () => {
      const whole = parseToolCalls(text, AUTO);
      fc.assert(
        fc.property(chunkings(text), (chunks) => {
          expect(collectToolEvents(streamEvents(chunks))).toEqual(whole);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('never leaks protocol text into prose deltas, and never splits a surrogate pair', () => {
    const text = SHAPES['emojiEdges'] ?? '';
    fc.assert(
      fc.property(chunkings(text), (chunks) => {
        for (const event of streamEvents(chunks)) {
          if (event.type === 'text') {
            expect(event.text).not.toMatch(/`|tool-call|"name"/);
            expect(wellFormed(event.text)).toBe(true);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('streams prose before the call as it comes, holding only a possible fence line', () => {
    const parser = createToolCallParser(AUTO);
    expect(parser.push('Let me look')).toEqual([{ type: 'text', text: 'Let me look' }]);
    expect(parser.push(' that up.\n``')).toEqual([{ type: 'text', text: ' that up.' }]);
    expect(parser.push('`tool-ca')).toEqual([]);
    expect(parser.push('ll\n{"name":"get_weather",')).toEqual([]);
    const closing = parser.push('"arguments":{"city":"Oslo"}}\n```\n');
    expect(closing.map((e) => e.type)).toEqual(['call_start', 'call_arguments', 'call_end']);
    expect(closing[0]).toMatchObject({ type: 'call_start', index: 0, name: 'get_weather' });
    expect(parser.end()).toEqual([]);
  });

  it('releases a held line as soon as it cannot be a fence', () => {
    const parser = createToolCallParser(AUTO);
    expect(parser.push('``')).toEqual([]);
    expect(parser.push('`py')).toEqual([{ type: 'text', text: '```py' }]);
  });

  it('numbers calls in order and emits start, arguments, end for each', () => {
    const events = streamEvents([SHAPES['twoCalls'] ?? '']);
    expect(events.map((e) => `${e.type}${'index' in e ? e.index : ''}`)).toEqual([
      'call_start0',
      'call_arguments0',
      'call_end0',
      'call_start1',
      'call_arguments1',
      'call_end1',
    ]);
  });

  it('agrees with the whole parse on random texts mixing prose, fences and calls', () => {
    const piece = fc.constantFrom(
      'hello ',
      '\n',
      '`',
      '```',
      '```tool-call\n',
      '```json\n',
      '{"a":1}',
      '\\`',
      'tool',
      '{"name":"get_weather","arguments":{"city":"x"}}',
      '🌍',
      ' ',
      '\r\n',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 25 }).chain((pieces) => {
          const text = pieces.join('');
          return fc.tuple(fc.constant(text), chunkings(text));
        }),
        ([text, chunks]) => {
          expect(collectToolEvents(streamEvents(chunks))).toEqual(parseToolCalls(text, AUTO));
        },
      ),
      { numRuns: 300 },
    );
  });
});
