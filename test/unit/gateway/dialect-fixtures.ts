/** Fixtures of the dialect tests: raw bodies, and the key a tap gives the next turn. */
import { createDialectTap } from '../../../src/gateway/dialect-taps.ts';
import { historyKeyAfter } from '../../../src/history-key.ts';
import type { Dialect } from '../../../src/api/index.ts';
import type { TestGateway } from './fake-servers.ts';

/** A JSON body as the gateway receives it. */
export const raw = (body: unknown): Buffer => Buffer.from(JSON.stringify(body));

/** Feeds `text` to a fresh tap in pieces of `size` bytes; the tap's key for the next turn. */
export function keyAfter(
  dialect: Dialect,
  sse: boolean,
  text: string,
  messages: Parameters<typeof historyKeyAfter>[0],
  size = 7,
): string | null {
  const tap = createDialectTap(dialect, sse);
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) {
    tap.push(bytes.subarray(i, i + size));
  }
  const answer = tap.answer();
  return answer === null ? null : historyKeyAfter(messages, answer, tap.toolCalls());
}

/** An Anthropic Messages body. */
export const anthropicBody = (messages: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages, ...extra });

/** A whole Message answering `text`. */
export const message = (text: string) =>
  JSON.stringify({
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
  });

/** A whole generateContent answer of `text`. */
export const googleAnswer = (text: string) =>
  JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
  });

/** A POST with a JSON body to the gateway. */
export const send = (
  g: TestGateway,
  path: string,
  body: string,
  headers: Record<string, string> = {},
) =>
  fetch(`${g.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
