/**
 * Deeply nested JSON for the depth-limit tests of the worker and the gateway: request bodies of
 * each dialect holding it where clients put JSON (a field, tool-call arguments, tool_use input,
 * functionCall args), built as text because JSON.stringify itself overflows on such values, and
 * the error bodies each dialect answers. `text` is the user's words, for finding the prompt upstream.
 */
import { expect } from 'vitest';

/** `depth` nested objects as JSON text: `{"a":{"a":…1…}}`. */
export const nestedObjects = (depth: number): string =>
  `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** What every depth refusal says. */
export const TOO_DEEP = /JSON nested more than 128 levels deep is not accepted/;

const MODEL = 'gemini-3-flash';

/** An OpenAI chat whose earlier assistant call has `args` as its arguments string. */
export const chatWithArguments = (args: string, stream = false, text = 'x'): string =>
  JSON.stringify({
    model: MODEL,
    stream,
    messages: [
      { role: 'user', content: text },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: args } }],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'r' },
    ],
  });

/** A Responses request whose function_call item has `args` as its arguments string. */
export const responsesWithArguments = (args: string): string =>
  JSON.stringify({
    model: MODEL,
    input: [
      { role: 'user', content: 'x' },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: args },
      { type: 'function_call_output', call_id: 'c1', output: 'r' },
    ],
  });

/** An Anthropic Messages request whose tool_use block has the JSON text `input` as its input. */
export const anthropicWithInput = (input: string, text = 'x'): string =>
  `{"model":"${MODEL}","max_tokens":10,"messages":[{"role":"user","content":${JSON.stringify(text)}},` +
  `{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":${input}}]},` +
  '{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r"}]}]}';

/** A generateContent request with the JSON text `value` in a field `x` beside its contents. */
export const googleWithField = (value: string, text = 'hi'): string =>
  `{"contents":[{"role":"user","parts":[{"text":${JSON.stringify(text)}}]}],"x":${value}}`;

/** A generateContent request whose model turn calls a function with the JSON text `args`. */
export const googleWithCallArgs = (args: string): string =>
  '{"contents":[{"role":"user","parts":[{"text":"x"}]},' +
  `{"role":"model","parts":[{"functionCall":{"name":"f","args":${args}}}]},` +
  '{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}}]}]}';

const message = (): unknown => expect.stringMatching(TOO_DEEP);

/** The refusal each dialect answers (an OpenAI one names its field, or null for the body). */
export const tooDeepError = {
  openai: (param: string | null) => ({
    error: { type: 'invalid_request_error', param, message: message() },
  }),
  anthropic: () => ({
    type: 'error',
    error: { type: 'invalid_request_error', message: message() },
  }),
  google: () => ({ error: { code: 400, status: 'INVALID_ARGUMENT', message: message() } }),
};
