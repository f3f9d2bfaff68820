/**
 * Tool calls through a worker, from e2e/worker-tools.test.ts: whole and streamed, text around
 * them, two at once (and parallel_tool_calls false), undeclared ones dropped, a broken call
 * repaired by one re-ask, tool_choice enforced, and the SDK's runTools loop in one chat.
 */
import { describe, expect, it } from 'vitest';
import { MODEL, WEATHER, TIME, ask, callsOf, sends, type ToolsTarget } from './tools.ts';

/** Defines the cases; `t()` is the suite's worker, its client and the emulator behind it. */
export function toolCallCases(t: () => ToolsTarget): void {
  describe('tool calls', () => {
    it('returns a call as tool_calls with finish_reason tool_calls and null content', async () => {
      const res = await t().client.chat.completions.create({
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
      expect(sends(t())).toHaveLength(1);
    });

    it('streams OpenAI deltas that the SDK assembles into the same calls, text first', async () => {
      const body = {
        model: MODEL,
        messages: ask('tool-mode: text-after\ncall get_weather {"city": "Rome"}'),
        tools: [WEATHER],
      };
      const whole = await t().client.chat.completions.create(body);
      const stream = t().client.chat.completions.stream(body);
      const chunks = [];
      for await (const c of stream) {
        chunks.push(c);
      }
      const final = await stream.finalChatCompletion();
      const message = final.choices[0]!.message;
      const streamed = callsOf(message.tool_calls as never);
      const once = callsOf(whole.choices[0]!.message.tool_calls as never);
      expect(streamed.map(({ id: _, ...call }) => call)).toEqual(
        once.map(({ id: _, ...call }) => call),
      );
      // Two answers: the same call has an id of its own in each.
      expect(streamed[0]?.id).not.toBe(once[0]?.id);
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
      expect(sends(t())).toHaveLength(2);
    });

    it('returns two calls at once, and only the first with parallel_tool_calls false', async () => {
      const content = 'call get_weather {"city": "Oslo"}\ncall get_time {"city": "Oslo"}';
      const both = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask(content),
        tools: [WEATHER, TIME],
      });
      expect(
        both.choices[0]?.message.tool_calls?.map(
          (c) => (c as { function: { name: string } }).function.name,
        ),
      ).toEqual(['get_weather', 'get_time']);
      const one = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask(`${content}\n(one)`),
        tools: [WEATHER, TIME],
        parallel_tool_calls: false,
      });
      expect(one.choices[0]?.message.tool_calls).toHaveLength(1);
      expect(sends(t())).toHaveLength(2);
    });

    it('drops a call to a tool that was never declared', async () => {
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('call launch_rocket {"target": "moon"}\ncall get_weather {"city": "Paris"}'),
        tools: [WEATHER],
      });
      const calls = callsOf(res.choices[0]?.message.tool_calls as never);
      expect(calls.map((c) => c.name)).toEqual(['get_weather']);
      expect(JSON.stringify(res)).not.toContain('launch_rocket');
    });

    it('repairs broken call arguments with exactly one re-ask in the same chat', async () => {
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('tool-mode: bad-json\ncall get_weather {"city": "Lima"}'),
        tools: [WEATHER],
      });
      expect(callsOf(res.choices[0]?.message.tool_calls as never)[0]?.args).toEqual({
        city: 'Lima',
      });
      const [first, reask] = sends(t());
      expect(sends(t())).toHaveLength(2);
      // The first send opened a chat; the re-ask continued it.
      expect(first?.cid ?? null).toBeNull();
      expect(reask?.cid).toMatch(/^c_/);
      expect(reask?.prompt).toContain('could not be used');
    });

    it('streams a repaired call once, without repeating the first answer text', async () => {
      const stream = t().client.chat.completions.stream({
        model: MODEL,
        messages: ask('tool-mode: bad-json\ncall get_weather {"city": "Kyiv"}'),
        tools: [WEATHER],
      });
      const final = await stream.finalChatCompletion();
      const message = final.choices[0]!.message;
      expect(callsOf(message.tool_calls as never).map((c) => c.args)).toEqual([{ city: 'Kyiv' }]);
      expect(message.content?.match(/I will use the tools/g)).toHaveLength(1);
      expect(sends(t())).toHaveLength(2);
    });

    it('enforces tool_choice required with one re-ask when the model ignored it', async () => {
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('tool-mode: ignore\ncall get_weather {"city": "Cairo"}'),
        tools: [WEATHER],
        tool_choice: 'required',
      });
      expect(res.choices[0]?.finish_reason).toBe('tool_calls');
      expect(callsOf(res.choices[0]?.message.tool_calls as never)[0]?.args).toEqual({
        city: 'Cairo',
      });
      expect(sends(t())).toHaveLength(2);
      expect(sends(t())[1]?.prompt).toContain('did not call');
    });

    it('answers a 502 that stops SDK retries when the re-ask ignores the choice too', async () => {
      t().emulator.scriptAnswers(['No tool needed.', 'Still no tool.'], t().email);
      const res = await fetch(`${t().worker.url}/v1/chat/completions`, {
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
      expect(sends(t())).toHaveLength(2);
    });

    it("completes the SDK's runTools two-step loop, continuing the chat natively", async () => {
      const seen: unknown[] = [];
      const runner = t().client.chat.completions.runTools({
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
      const [first, second] = sends(t());
      expect(sends(t())).toHaveLength(2);
      expect(first?.cid ?? null).toBeNull();
      expect(second?.cid).toMatch(/^c_/);
      expect(second?.prompt).toContain('[Tool result: get_weather');
      expect(second?.prompt).not.toContain('[User]:');
    });
  });
}
