/**
 * Deeply nested JSON in each dialect, by raw fetch (an SDK would not send it): a Google body with a
 * deep field, an OpenAI chat whose tool_calls arguments hold JSON 5000 levels deep, an Anthropic
 * tool_use whose input is as deep. Each is a 400 in its own dialect's shape, never a stack
 * overflow's 500; no prompt reaches the emulator; and through the gateway nothing fails over: the
 * gateway answers the deep bodies itself and passes the worker's one 400 on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  anthropicWithInput,
  chatWithArguments,
  googleWithField,
  nestedObjects as objects,
  tooDeepError,
} from '../../test/unit/support/deep-json.ts';
import type { DialectTarget } from './target.ts';

/** What the cases need beyond the target: the admin key (for /metrics) and the worker behind it. */
export interface DeepJsonDeps {
  readonly adminKey: string;
  readonly workerUrl: () => string;
}

const MODEL = 'gemini-2.5-flash';

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

/** The metrics `read` answers once `ready` holds of them, or after 2.5 s: whatever it then says. */
async function metricsOnce(
  read: () => Promise<string>,
  ready: (text: string) => boolean,
): Promise<string> {
  let text = await read();
  for (let i = 0; i < 50 && !ready(text); i++) {
    await sleep(50);
    text = await read();
  }
  return text;
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
        googleWithField(objects(2000), tag),
      );
      expect(google.status).toBe(400);
      expect(await google.json()).toMatchObject(tooDeepError.google());
      const chat = await post(
        '/v1/chat/completions',
        { authorization: `Bearer ${target().apiKey}` },
        chatWithArguments(objects(5000), false, tag),
      );
      expect(chat.status).toBe(400);
      expect(await chat.json()).toMatchObject(
        tooDeepError.openai('messages.1.tool_calls.0.function.arguments'),
      );
      const anthropic = await post(
        '/v1/messages',
        { 'x-api-key': target().apiKey, 'anthropic-version': '2023-06-01' },
        anthropicWithInput(objects(5000), tag),
      );
      expect(anthropic.status).toBe(400);
      expect(await anthropic.json()).toEqual(tooDeepError.anthropic());

      const sent = target()
        .emulator.records()
        .filter((r) => r.kind === 'generate' && (r.prompt ?? '').includes(tag));
      expect(sent).toEqual([]);

      // The worker saw all three directly, or only the chat through the gateway (which reads the
      // other two bodies itself); requests are counted as their responses finish, so poll.
      const workerSaw = name === 'gateway' ? 1 : 3;
      const refused = (text: string) =>
        sampleSum(text, 'gk_http_requests_total', { status: '400' });
      const workerAfter = await metricsOnce(
        () => metricsOf(deps.workerUrl()),
        (text) => refused(text) - refused(workerBefore) >= workerSaw,
      );
      expect(refused(workerAfter) - refused(workerBefore)).toBe(workerSaw);
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
