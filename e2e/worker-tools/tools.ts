/**
 * What the cases of e2e/worker-tools.test.ts share: the worker they drive, the model and tools
 * they ask with, and readers of what went upstream and what came back.
 */
import type OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import type { Emulator } from '../../src/emulator/index.ts';
import type { TestWorker } from '../support/worker.ts';

/** The suite's worker, its SDK client, its account and the emulator behind it. */
export interface ToolsTarget {
  readonly emulator: Emulator;
  readonly worker: TestWorker;
  readonly email: string;
  readonly client: OpenAI;
}

export const MODEL = 'gemini-2.5-flash';
export const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
    },
  },
};
export const TIME: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'The local time in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

/** What went upstream to generate, in order. */
export const sends = (t: ToolsTarget) => t.emulator.records().filter((r) => r.kind === 'generate');
/** One user message. */
export const ask = (content: string) => [{ role: 'user' as const, content }];
/** Calls as name, parsed arguments and id. */
export const callsOf = (
  calls: readonly { id: string; function: { name: string; arguments: string } }[],
): { id: string; name: string; args: unknown }[] =>
  calls.map((c) => ({
    id: c.id,
    name: c.function.name,
    args: JSON.parse(c.function.arguments) as unknown,
  }));
