/** Shared tools and helpers for the core tests. */
import fc from 'fast-check';
import type { ToolDefinition, ToolParseOptions } from '../../../../src/api/core/index.ts';

export const WEATHER: ToolDefinition = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      days: { type: 'integer', minimum: 1 },
      metric: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['city'],
    additionalProperties: false,
  },
};

export const RUN_CODE: ToolDefinition = {
  name: 'run_code',
  description: 'Runs a snippet.',
  parameters: {
    type: 'object',
    properties: { language: { type: 'string' }, code: { type: 'string' } },
    required: ['code'],
  },
};

/** Options with both tools, auto choice, parallel calls. */
export const AUTO: ToolParseOptions = {
  tools: [WEATHER, RUN_CODE],
  toolChoice: { type: 'auto' },
  parallelToolCalls: true,
};

/** A call block in the protocol's plain form. */
export function block(json: string, fence = '```'): string {
  return `${fence}tool-call\n${json}\n${fence}`;
}

/** Cuts `text` at random UTF-16 offsets (surrogate pairs may be split on purpose). */
export function chunkings(text: string): fc.Arbitrary<string[]> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, text.length - 1) }), {
      maxLength: Math.min(40, text.length),
    })
    .map((cuts) => {
      const sorted = [...cuts].sort((a, b) => a - b).filter((c) => c < text.length);
      const pieces: string[] = [];
      let last = 0;
      for (const cut of sorted) {
        pieces.push(text.slice(last, cut));
        last = cut;
      }
      pieces.push(text.slice(last));
      return pieces;
    });
}

/** True when the string has no unpaired surrogate. */
export function wellFormed(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
