/**
 * Tool schemas, from e2e/worker-tools.test.ts: a schema that names its draft (zod 4 writes
 * 2020-12) is taken and checked; `pattern`s are checked against the model's calls on RE2, in
 * linear time, and a pattern RE2 cannot run is left unchecked rather than run on V8's
 * backtracking engine, where one steered answer would hold the worker for minutes.
 */
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { MODEL, ask, callsOf, sends, type ToolsTarget } from './tools.ts';

const withPattern = (pattern: string): ChatCompletionTool => ({
  type: 'function',
  function: {
    name: 'f',
    parameters: {
      type: 'object',
      properties: { a: { type: 'string', pattern } },
      required: ['a'],
    },
  },
});

/** Defines the cases; `t()` is the suite's worker, its client and the emulator behind it. */
export function schemaCases(t: () => ToolsTarget): void {
  describe('tool schemas', () => {
    it('takes a schema that names draft 2020-12 (zod 4) and coerces the call to it', async () => {
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('tool-mode: no-text\ncall count {"n": "3"}'),
        tools: [
          {
            type: 'function',
            function: {
              name: 'count',
              parameters: {
                $schema: 'https://json-schema.org/draft/2020-12/schema',
                type: 'object',
                properties: { n: { type: 'integer' } },
                required: ['n'],
              },
            },
          },
        ],
      });
      expect(callsOf(res.choices[0]?.message.tool_calls as never)).toEqual([
        { id: expect.any(String) as unknown, name: 'count', args: { n: 3 } },
      ]);
    });

    it('sends a call that breaks a nested-quantifier pattern back once, in linear time', async () => {
      const long = `${'a'.repeat(3000)}!`;
      const asked = t().client.chat.completions.create({
        model: MODEL,
        messages: ask(`tool-mode: no-text\ncall f {"a": "${long}"}`),
        tools: [withPattern('^(a+)+$')],
      });
      // The emulator writes the same call again: after the one re-ask, a 502 naming the rule.
      await expect(asked).rejects.toMatchObject({
        status: 502,
        message: expect.stringContaining('/a must match pattern "^(a+)+$"') as unknown,
      });
      const [, reask] = sends(t());
      expect(sends(t())).toHaveLength(2);
      expect(reask?.prompt).toContain('must match pattern');
    });

    it('answers a call under a lookahead pattern unchecked, and the worker stays free', async () => {
      const arg = `${'a'.repeat(40)}!`;
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask(`tool-mode: no-text\ncall f {"a": "${arg}"}`),
        tools: [withPattern('^(a+)+(?=b)')],
      });
      expect(callsOf(res.choices[0]?.message.tool_calls as never)).toEqual([
        { id: expect.any(String) as unknown, name: 'f', args: { a: arg } },
      ]);
      expect(sends(t())).toHaveLength(1);
      const health = await fetch(`${t().worker.url}/health`);
      expect(health.status).toBe(200);
    });
  });
}
