/**
 * Deeply nested JSON in each dialect, by raw fetch (an SDK would not send it): a Google body with a
 * deep field, an OpenAI chat whose tool_calls arguments hold JSON 5000 levels deep, an Anthropic
 * tool_use whose input is as deep. Each is a 400 in its own dialect's shape, never a stack
 * overflow's 500; no prompt reaches the emulator; and through the gateway nothing fails over: the
 * gateway answers the deep bodies itself and passes the worker's one 400 on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DialectTarget } from './target.ts';

/** What the cases need beyond the target: the admin key (for /metrics) and the worker behind it. */
export interface DeepJsonDeps {
  readonly adminKey: string;
  readonly workerUrl: () => string;
}

const MODEL = 'gemini-2.5-flash';
/** `depth` nested objects as JSON text (built as text: JSON.stringify would overflow on it). */
const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const TOO_DEEP = /JSON nested more than 128 levels deep is not accepted/;

/** The sum of a Prometheus text sample over the series whose labels include `labels`. */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) {
      continue;
    }
    const series = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) {
      sum += Number(match[3]);
    }
  }
  return sum;
}

/** Registers the cases for `target()` (read lazily: the stack starts in beforeAll). */
export function deepJsonCases(name: string, target: () => DialectTarget, deps: DeepJsonDeps): void {
  const metricsOf = async (origin: string) =>
    (
      await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${deps.adminKey}` } })
    ).text();
  const post = (path: string, headers: Record<string, string>, body: string) =>
    fetch(`${target().origin}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  describe(`deep JSON via ${name}`, () => {
    it("is a 400 in each dialect's shape, sends nothing upstream and fails nothing over", async () => {
      const tag = `deep ${name} ${Math.random().toString(36).slice(2, 8)}`;
      const gatewayBefore = name === 'gateway' ? await metricsOf(target().origin) : '';
      const workerBefore = await metricsOf(deps.workerUrl());

      const google = await post(
        `/v1beta/models/${MODEL}:generateContent`,
        { 'x-goog-api-key': target().apiKey },
        `{"contents":[{"role":"user","parts":[{"text":"${tag}"}]}],"x":${objects(2000)}}`,
      );
      expect(google.status).toBe(400);
      expect(await google.json()).toMatchObject({
        error: {
          code: 400,
          status: 'INVALID_ARGUMENT',
          message: expect.stringMatching(TOO_DEEP) as unknown,
        },
      });

      const chat = await post(
        '/v1/chat/completions',
        { authorization: `Bearer ${target().apiKey}` },
        JSON.stringify({
          model: MODEL,
          messages: [
            { role: 'user', content: tag },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: 'c1', type: 'function', function: { name: 'f', arguments: objects(5000) } },
              ],
            },
            { role: 'tool', tool_call_id: 'c1', content: 'r' },
          ],
        }),
      );
      expect(chat.status).toBe(400);
      expect(await chat.json()).toMatchObject({
        error: {
          type: 'invalid_request_error',
          param: 'messages.1.tool_calls.0.function.arguments',
          message: expect.stringMatching(TOO_DEEP) as unknown,
        },
      });

      const anthropic = await post(
        '/v1/messages',
        { 'x-api-key': target().apiKey, 'anthropic-version': '2023-06-01' },
        `{"model":"${MODEL}","max_tokens":10,"messages":[{"role":"user","content":"${tag}"},` +
          '{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":' +
          `${objects(5000)}}]},{"role":"user","content":[{"type":"tool_result",` +
          '"tool_use_id":"t1","content":"r"}]}]}',
      );
      expect(anthropic.status).toBe(400);
      expect(await anthropic.json()).toEqual({
        type: 'error',
        error: {
          type: 'invalid_request_error',
          message: expect.stringMatching(TOO_DEEP) as unknown,
        },
      });

      const sent = target()
        .emulator.records()
        .filter((r) => r.kind === 'generate' && (r.prompt ?? '').includes(tag));
      expect(sent).toEqual([]);

      // The worker saw all three directly, or only the chat through the gateway (which reads the
      // other two bodies itself); requests are counted as their responses finish, so poll.
      const workerSaw = name === 'gateway' ? 1 : 3;
      let workerAfter = await metricsOf(deps.workerUrl());
      const refusedByWorker = (text: string) =>
        sampleSum(text, 'gk_http_requests_total', { status: '400' });
      for (
        let i = 0;
        i < 50 && refusedByWorker(workerAfter) - refusedByWorker(workerBefore) < workerSaw;
        i++
      ) {
        await sleep(50);
        workerAfter = await metricsOf(deps.workerUrl());
      }
      expect(refusedByWorker(workerAfter) - refusedByWorker(workerBefore)).toBe(workerSaw);
      const errored = (text: string) =>
        sampleSum(text, 'gk_http_requests_total', { status: '500' });
      expect(errored(workerAfter)).toBe(errored(workerBefore));

      if (name === 'gateway') {
        const gatewayAfter = await metricsOf(target().origin);
        const delta = (metric: string, labels: Record<string, string> = {}) =>
          sampleSum(gatewayAfter, metric, labels) - sampleSum(gatewayBefore, metric, labels);
        expect(delta('gateway_failovers_total')).toBe(0);
        // One attempt, the chat's, answered 400 and passed on; none for the bodies it refused.
        expect(delta('gateway_upstream_attempts_total')).toBe(1);
        expect(delta('gateway_upstream_attempts_total', { outcome: '400' })).toBe(1);
      }
    });
  });
}
