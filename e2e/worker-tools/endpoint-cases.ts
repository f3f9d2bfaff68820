/**
 * The other OpenAI endpoints of a worker, from e2e/worker-tools.test.ts: the legacy
 * /v1/completions, /v1/embeddings' clear 404, and /v1/responses (whole, streamed with a
 * function tool, continued by previous_response_id or by a stateless resend of a streamed turn;
 * a forced tool_choice with no tool a 400).
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { MODEL, WEATHER, sends, type ToolsTarget } from './tools.ts';

/** get_weather as a Responses function tool. */
const RESPONSES_WEATHER = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: WEATHER.type === 'function' ? WEATHER.function.parameters! : {},
  strict: false,
};

/** Defines the cases; `t()` is the suite's worker, its client and the emulator behind it. */
export function endpointCases(t: () => ToolsTarget): void {
  describe('other endpoints', () => {
    it('answers legacy /v1/completions, whole and streamed', async () => {
      const res = await t().client.completions.create({ model: MODEL, prompt: 'legacy prompt' });
      expect(res.object).toBe('text_completion');
      expect(res.choices[0]?.text).toContain('legacy prompt');
      expect(res.choices[0]?.finish_reason).toBe('stop');
      const stream = await t().client.completions.create({
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
      const err = await t()
        .client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect((err as Error).message).toMatch(/Embeddings are not supported/);
      expect(sends(t())).toHaveLength(0);
    });

    it('answers responses.create and continues by previous_response_id natively', async () => {
      const tool = RESPONSES_WEATHER;
      const first = await t().client.responses.create({
        model: MODEL,
        instructions: 'Be brief.',
        input: 'call get_weather {"city": "Bergen"}',
        tools: [tool],
      });
      const call = first.output.find((o) => o.type === 'function_call');
      expect(call).toMatchObject({ name: 'get_weather', arguments: '{"city":"Bergen"}' });
      const second = await t().client.responses.create({
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
      const [a, b] = sends(t());
      expect(sends(t())).toHaveLength(2);
      expect(a?.cid ?? null).toBeNull();
      expect(b?.cid).toMatch(/^c_/);
      expect(b?.prompt).toContain('[Tool result: get_weather');
      const missing = await t()
        .client.responses.create({ model: MODEL, previous_response_id: 'resp_nope', input: 'x' })
        .catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('continues a stateless resend of a streamed responses turn with text after its call natively', async () => {
      const tools = [RESPONSES_WEATHER];
      const input = 'tool-mode: text-after\ncall get_weather {"city": "Narvik"}';
      const stream = t().client.responses.stream({ model: MODEL, input, tools });
      for await (const _ of stream) {
        // drained: finalResponse() is the output the stream assembled
      }
      const output = (await stream.finalResponse()).output;
      // The text after the call streams as a message item of its own.
      expect(output.map((o) => o.type)).toEqual(['message', 'function_call', 'message']);
      const items = output.flatMap((o) =>
        o.type === 'message' || o.type === 'function_call' ? [o] : [],
      );
      const results = items.flatMap((o) =>
        o.type === 'function_call'
          ? [{ type: 'function_call_output' as const, call_id: o.call_id, output: 'snow, -4 C' }]
          : [],
      );
      // A stateless client: no previous_response_id, its history and the output items resent.
      const next = await t().client.responses.create({
        model: MODEL,
        input: [{ role: 'user', content: input }, ...items, ...results],
        tools,
      });
      expect(next.output_text).toContain('snow, -4 C');
      const [first, second] = sends(t());
      expect(sends(t())).toHaveLength(2);
      expect(first?.cid ?? null).toBeNull();
      expect(second?.cid).toMatch(/^c_/);
      expect(second?.prompt).not.toContain('tool-mode');
    });

    it('refuses responses whose tool_choice forces a call with no tool to call: 400, nothing sent', async () => {
      const getWeather = {
        type: 'function' as const,
        name: 'get_weather',
        parameters: { type: 'object' },
        strict: false,
      };
      const refusals: [OpenAI.Responses.ResponseCreateParamsNonStreaming, string, RegExp][] = [
        [
          { model: MODEL, input: 'required, no tools', tool_choice: 'required' },
          'tool_choice',
          /no tools were given/,
        ],
        [
          { model: MODEL, input: 'required, empty tools', tools: [], tool_choice: 'required' },
          'tool_choice',
          /no tools were given/,
        ],
        [
          {
            model: MODEL,
            input: 'allowed_tools required, none allowed',
            tools: [getWeather],
            tool_choice: { type: 'allowed_tools', mode: 'required', tools: [] },
          },
          'tool_choice.tools',
          /tool_choice\.tools is empty/,
        ],
        [
          {
            model: MODEL,
            input: 'allowed_tools naming an undeclared tool',
            tools: [getWeather],
            tool_choice: {
              type: 'allowed_tools',
              mode: 'required',
              tools: [
                { type: 'function', name: 'get_weather' },
                { type: 'function', name: 'get_time' },
              ],
            },
          },
          'tool_choice',
          /'get_time', which is not among tools/,
        ],
      ];
      for (const [body, param, message] of refusals) {
        const err = await t()
          .client.responses.create(body)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OpenAI.BadRequestError);
        const bad = err as InstanceType<typeof OpenAI.BadRequestError>;
        expect(bad.headers.get('x-upstream-sent')).toBe('false');
        expect(bad.error).toEqual({
          message: expect.stringMatching(message) as unknown,
          type: 'invalid_request_error',
          param,
          code: null,
        });
      }
      expect(sends(t())).toEqual([]);
    });

    it('streams responses with a function tool and text', async () => {
      const stream = t().client.responses.stream({
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
      const plain = await t().client.responses.create({
        model: MODEL,
        input: 'plain responses question',
      });
      expect(plain.output_text).toContain('plain responses question');
    });
  });
}
