/**
 * The agent-grade OpenAI surface of a worker, driven by the official openai SDK (v6) against the
 * emulator over HTTPS: tool calls (whole and streamed, text around them, two at once, undeclared
 * ones dropped, a broken call repaired by one re-ask, tool_choice enforced), the SDK's runTools
 * loop, json_schema output parsed with zod, stop, max_tokens, n, unknown fields, the legacy
 * /v1/completions, /v1/embeddings, and /v1/responses (whole, streamed, previous_response_id).
 * The emulator's records prove how many prompts went upstream and in which chat.
 */
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Emulator } from '../src/emulator/index.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';

let emulator: Emulator;
let worker: TestWorker;
let email: string;
let client: OpenAI;

const MODEL = 'gemini-2.5-flash';
const WEATHER: ChatCompletionTool = {
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
const TIME: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'The local time in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } } },
  },
};

const sends = () => emulator.records().filter((r) => r.kind === 'generate');
const ask = (content: string) => [{ role: 'user' as const, content }];
const callsOf = (
  calls: readonly { id: string; function: { name: string; arguments: string } }[],
): { id: string; name: string; args: unknown }[] =>
  calls.map((c) => ({
    id: c.id,
    name: c.function.name,
    args: JSON.parse(c.function.arguments) as unknown,
  }));

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 2 });
  email = uniqueEmail('tools');
  worker = await startTestWorker({ emulator, email });
  client = worker.openai();
});

afterAll(async () => {
  await worker?.close();
  await emulator?.close();
});

beforeEach(() => {
  emulator.clearRecords();
  emulator.clearScriptedAnswers();
});

describe('tool calls', () => {
  it('returns a call as tool_calls with finish_reason tool_calls and null content', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('tool-mode: no-text\ncall get_weather {"city": "Oslo"}'),
      tools: [WEATHER],
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(callsOf(choice.message.tool_calls as never)).toEqual([
      {
        id: expect.stringMatching(/^call_\w+$/) as unknown,
        name: 'get_weather',
        args: { city: 'Oslo' },
      },
    ]);
    expect(choice.message.tool_calls?.[0]?.type).toBe('function');
    expect(sends()).toHaveLength(1);
  });

  it('streams OpenAI deltas that the SDK assembles into the same calls, text first', async () => {
    const body = {
      model: MODEL,
      messages: ask('tool-mode: text-after\ncall get_weather {"city": "Rome"}'),
      tools: [WEATHER],
    };
    const whole = await client.chat.completions.create(body);
    const stream = client.chat.completions.stream(body);
    const chunks = [];
    for await (const c of stream) {
      chunks.push(c);
    }
    const final = await stream.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(callsOf(message.tool_calls as never)).toEqual(
      callsOf(whole.choices[0]!.message.tool_calls as never),
    );
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    // Text around the call is content; the protocol never leaks.
    expect(message.content).toContain('I will use the tools for this.');
    expect(message.content).toContain('The results will follow.');
    expect(message.content).not.toMatch(/tool-call|```|get_weather/);
    const callDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(callDeltas[0]).toMatchObject({
      index: 0,
      id: message.tool_calls?.[0]?.id,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(
      callDeltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined),
    ).toBe(true);
    expect(callDeltas.map((d) => d.function?.arguments ?? '').join('')).toBe('{"city":"Rome"}');
    const firstCall = chunks.findIndex((c) => c.choices[0]?.delta.tool_calls);
    const firstText = chunks.findIndex((c) => c.choices[0]?.delta.content);
    expect(firstText).toBeLessThan(firstCall);
    expect(sends()).toHaveLength(2);
  });

  it('returns two calls at once, and only the first with parallel_tool_calls false', async () => {
    const content = 'call get_weather {"city": "Oslo"}\ncall get_time {"city": "Oslo"}';
    const both = await client.chat.completions.create({
      model: MODEL,
      messages: ask(content),
      tools: [WEATHER, TIME],
    });
    expect(
      both.choices[0]?.message.tool_calls?.map(
        (c) => (c as { function: { name: string } }).function.name,
      ),
    ).toEqual(['get_weather', 'get_time']);
    const one = await client.chat.completions.create({
      model: MODEL,
      messages: ask(`${content}\n(one)`),
      tools: [WEATHER, TIME],
      parallel_tool_calls: false,
    });
    expect(one.choices[0]?.message.tool_calls).toHaveLength(1);
    expect(sends()).toHaveLength(2);
  });

  it('drops a call to a tool that was never declared', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('call launch_rocket {"target": "moon"}\ncall get_weather {"city": "Paris"}'),
      tools: [WEATHER],
    });
    const calls = callsOf(res.choices[0]?.message.tool_calls as never);
    expect(calls.map((c) => c.name)).toEqual(['get_weather']);
    expect(JSON.stringify(res)).not.toContain('launch_rocket');
  });

  it('repairs broken call arguments with exactly one re-ask in the same chat', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('tool-mode: bad-json\ncall get_weather {"city": "Lima"}'),
      tools: [WEATHER],
    });
    expect(callsOf(res.choices[0]?.message.tool_calls as never)[0]?.args).toEqual({ city: 'Lima' });
    const [first, reask] = sends();
    expect(sends()).toHaveLength(2);
    // The first send opened a chat; the re-ask continued it.
    expect(first?.cid ?? null).toBeNull();
    expect(reask?.cid).toMatch(/^c_/);
    expect(reask?.prompt).toContain('could not be used');
  });

  it('streams a repaired call once, without repeating the first answer text', async () => {
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: ask('tool-mode: bad-json\ncall get_weather {"city": "Kyiv"}'),
      tools: [WEATHER],
    });
    const final = await stream.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(callsOf(message.tool_calls as never).map((c) => c.args)).toEqual([{ city: 'Kyiv' }]);
    expect(message.content?.match(/I will use the tools/g)).toHaveLength(1);
    expect(sends()).toHaveLength(2);
  });

  it('enforces tool_choice required with one re-ask when the model ignored it', async () => {
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('tool-mode: ignore\ncall get_weather {"city": "Cairo"}'),
      tools: [WEATHER],
      tool_choice: 'required',
    });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(callsOf(res.choices[0]?.message.tool_calls as never)[0]?.args).toEqual({
      city: 'Cairo',
    });
    expect(sends()).toHaveLength(2);
    expect(sends()[1]?.prompt).toContain('did not call');
  });

  it('answers a 502 that stops SDK retries when the re-ask ignores the choice too', async () => {
    emulator.scriptAnswers(['No tool needed.', 'Still no tool.'], email);
    const res = await fetch(`${worker.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        messages: ask('weather in Oslo?'),
        tools: [WEATHER],
        tool_choice: { type: 'function', function: { name: 'get_weather' } },
      }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-upstream-sent')).toBe('true');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('tool_choice_unmet');
    expect(body.error.message).toMatch(/get_weather/);
    expect(sends()).toHaveLength(2);
  });

  it("completes the SDK's runTools two-step loop, continuing the chat natively", async () => {
    const seen: unknown[] = [];
    const runner = client.chat.completions.runTools({
      model: MODEL,
      messages: ask('call get_weather {"city": "Oslo"}'),
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'The weather in a city',
            parameters: WEATHER.type === 'function' ? WEATHER.function.parameters! : {},
            parse: JSON.parse,
            function: (args: { city: string }) => {
              seen.push(args);
              return `sunny, 21 C in ${args.city}`;
            },
          },
        },
      ],
    });
    const content = await runner.finalContent();
    expect(seen).toEqual([{ city: 'Oslo' }]);
    expect(content).toContain('Here is what the tools returned');
    expect(content).toContain('sunny, 21 C in Oslo');
    const [first, second] = sends();
    expect(sends()).toHaveLength(2);
    expect(first?.cid ?? null).toBeNull();
    expect(second?.cid).toMatch(/^c_/);
    expect(second?.prompt).toContain('[Tool result: get_weather');
    expect(second?.prompt).not.toContain('[User]:');
  });
});

describe('structured output and limits', () => {
  it('returns json_schema output that parses with zod', async () => {
    const Weather = z.object({ city: z.string(), temp: z.number() });
    const res = await client.chat.completions.parse({
      model: MODEL,
      messages: ask('json {"city": "Oslo", "temp": 12}'),
      response_format: zodResponseFormat(Weather, 'weather'),
    });
    expect(res.choices[0]?.message.parsed).toEqual({ city: 'Oslo', temp: 12 });
    expect(Weather.parse(JSON.parse(res.choices[0]!.message.content!))).toEqual({
      city: 'Oslo',
      temp: 12,
    });
    expect(sends()).toHaveLength(1);
  });

  it('repairs invalid JSON output with one re-ask, streamed too', async () => {
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: ask('json-mode: bad\njson {"ok": true}'),
      response_format: { type: 'json_object' },
    });
    const final = await stream.finalChatCompletion();
    expect(JSON.parse(final.choices[0]!.message.content!)).toEqual({ ok: true });
    expect(sends()).toHaveLength(2);
  });

  it('cuts the answer at a stop sequence, streamed and not', async () => {
    emulator.scriptAnswers(
      ['Alpha beta gamma. HALT and more.', 'Alpha beta gamma. HALT and more.'],
      email,
    );
    const whole = await client.chat.completions.create({
      model: MODEL,
      messages: ask('stop please'),
      stop: ['HALT'],
    });
    expect(whole.choices[0]?.message.content).toBe('Alpha beta gamma. ');
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: ask('stop please, streamed'),
      stop: 'HALT',
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe('Alpha beta gamma. ');
    expect(final.choices[0]?.finish_reason).toBe('stop');
    expect(sends()).toHaveLength(2);
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    emulator.scriptAnswers(['one two three four five six seven eight nine ten'], email);
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('count'),
      max_tokens: 3,
    });
    expect(res.choices[0]?.finish_reason).toBe('length');
    expect(res.choices[0]?.message.content?.trim()).toBe('one two three');
    expect(res.usage?.completion_tokens).toBe(3);
  });

  it('refuses n=2 with a clear 400 and accepts unknown and sampling fields', async () => {
    const err = await client.chat.completions
      .create({ model: MODEL, messages: ask('twice'), n: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(/only n=1/);
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: ask('with extras'),
      temperature: 0.1,
      top_p: 0.9,
      seed: 3,
      user: 'u-1',
      n: 1,
      // @ts-expect-error a field no OpenAI type knows
      some_future_field: { nested: true },
    });
    expect(res.choices[0]?.message.content).toContain('with extras');
    expect(sends()).toHaveLength(1);
  });
});

describe('other endpoints', () => {
  it('answers legacy /v1/completions, whole and streamed', async () => {
    const res = await client.completions.create({ model: MODEL, prompt: 'legacy prompt' });
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]?.text).toContain('legacy prompt');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    const stream = await client.completions.create({
      model: MODEL,
      prompt: ['legacy streamed'],
      stream: true,
    });
    let text = '';
    const finishes = [];
    for await (const c of stream) {
      expect(c.object).toBe('text_completion');
      text += c.choices[0]?.text ?? '';
      if (c.choices[0]?.finish_reason) {
        finishes.push(c.choices[0].finish_reason);
      }
    }
    expect(text).toContain('legacy streamed');
    expect(finishes).toEqual(['stop']);
  });

  it('answers /v1/embeddings with a clear 404', async () => {
    const err = await client.embeddings
      .create({ model: 'text-embedding-3-small', input: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as Error).message).toMatch(/Embeddings are not supported/);
    expect(sends()).toHaveLength(0);
  });

  it('answers responses.create and continues by previous_response_id natively', async () => {
    const tool = {
      type: 'function' as const,
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: WEATHER.type === 'function' ? WEATHER.function.parameters! : {},
      strict: false,
    };
    const first = await client.responses.create({
      model: MODEL,
      instructions: 'Be brief.',
      input: 'call get_weather {"city": "Bergen"}',
      tools: [tool],
    });
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Bergen"}' });
    const second = await client.responses.create({
      model: MODEL,
      previous_response_id: first.id,
      input: [
        {
          type: 'function_call_output',
          call_id: call?.type === 'function_call' ? call.call_id : '',
          output: 'rain, 9 C',
        },
      ],
      tools: [tool],
    });
    expect(second.output_text).toContain('rain, 9 C');
    const [a, b] = sends();
    expect(sends()).toHaveLength(2);
    expect(a?.cid ?? null).toBeNull();
    expect(b?.cid).toMatch(/^c_/);
    expect(b?.prompt).toContain('[Tool result: get_weather');
    const missing = await client.responses
      .create({ model: MODEL, previous_response_id: 'resp_nope', input: 'x' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('streams responses with a function tool and text', async () => {
    const stream = client.responses.stream({
      model: MODEL,
      input: 'call get_weather {"city": "Turku"}',
      tools: [
        {
          type: 'function',
          name: 'get_weather',
          parameters: WEATHER.type === 'function' ? WEATHER.function.parameters! : {},
          strict: false,
        },
      ],
    });
    const types = new Set<string>();
    for await (const event of stream) {
      types.add(event.type);
    }
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toContain('I will use the tools for this.');
    expect(final.output.find((o) => o.type === 'function_call')).toMatchObject({
      name: 'get_weather',
      arguments: '{"city":"Turku"}',
    });
    expect([...types]).toEqual(
      expect.arrayContaining([
        'response.created',
        'response.output_text.delta',
        'response.function_call_arguments.done',
        'response.completed',
      ]),
    );
    const plain = await client.responses.create({
      model: MODEL,
      input: 'plain responses question',
    });
    expect(plain.output_text).toContain('plain responses question');
  });
});
