/**
 * Structured output and limits through a worker, from e2e/worker-tools.test.ts: json_schema
 * output parsed with zod (repaired by one re-ask when invalid), stop, max_tokens, n and unknown
 * fields.
 */
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MODEL, ask, sends, type ToolsTarget } from './tools.ts';

/** Defines the cases; `t()` is the suite's worker, its client and the emulator behind it. */
export function structuredCases(t: () => ToolsTarget): void {
  describe('structured output and limits', () => {
    it('returns json_schema output that parses with zod', async () => {
      const Weather = z.object({ city: z.string(), temp: z.number() });
      const res = await t().client.chat.completions.parse({
        model: MODEL,
        messages: ask('json {"city": "Oslo", "temp": 12}'),
        response_format: zodResponseFormat(Weather, 'weather'),
      });
      expect(res.choices[0]?.message.parsed).toEqual({ city: 'Oslo', temp: 12 });
      expect(Weather.parse(JSON.parse(res.choices[0]!.message.content!))).toEqual({
        city: 'Oslo',
        temp: 12,
      });
      expect(sends(t())).toHaveLength(1);
    });

    it('repairs invalid JSON output with one re-ask, streamed too', async () => {
      const stream = t().client.chat.completions.stream({
        model: MODEL,
        messages: ask('json-mode: bad\njson {"ok": true}'),
        response_format: { type: 'json_object' },
      });
      const final = await stream.finalChatCompletion();
      expect(JSON.parse(final.choices[0]!.message.content!)).toEqual({ ok: true });
      expect(sends(t())).toHaveLength(2);
    });

    it('cuts the answer at a stop sequence, streamed and not', async () => {
      t().emulator.scriptAnswers(
        ['Alpha beta gamma. HALT and more.', 'Alpha beta gamma. HALT and more.'],
        t().email,
      );
      const whole = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('stop please'),
        stop: ['HALT'],
      });
      expect(whole.choices[0]?.message.content).toBe('Alpha beta gamma. ');
      expect(whole.choices[0]?.finish_reason).toBe('stop');
      const stream = t().client.chat.completions.stream({
        model: MODEL,
        messages: ask('stop please, streamed'),
        stop: 'HALT',
      });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0]?.message.content).toBe('Alpha beta gamma. ');
      expect(final.choices[0]?.finish_reason).toBe('stop');
      expect(sends(t())).toHaveLength(2);
    });

    it('cuts the answer at max_tokens with finish_reason length', async () => {
      t().emulator.scriptAnswers(['one two three four five six seven eight nine ten'], t().email);
      const res = await t().client.chat.completions.create({
        model: MODEL,
        messages: ask('count'),
        max_tokens: 3,
      });
      expect(res.choices[0]?.finish_reason).toBe('length');
      expect(res.choices[0]?.message.content?.trim()).toBe('one two three');
      expect(res.usage?.completion_tokens).toBe(3);
    });

    it('refuses n=2 with a clear 400 and accepts unknown and sampling fields', async () => {
      const err = await t()
        .client.chat.completions.create({ model: MODEL, messages: ask('twice'), n: 2 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as Error).message).toMatch(/only n=1/);
      const res = await t().client.chat.completions.create({
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
      expect(sends(t())).toHaveLength(1);
    });
  });
}
