/**
 * @module gateway/dialect-request
 * What the gateway reads from an Anthropic Messages or a Gemini generateContent request to route
 * it like a chat completion: `model`, `stream`, and the history in OpenAI's message shape, which
 * the history key is taken over. Clients of both resend the whole history, so a regenerate or an
 * edit finds the node holding the turn it continues from, as an OpenAI client's does.
 * The history is read leniently, by hand (not through the worker's validating parsers): a body
 * the gateway does not understand only loses affinity, and the worker reports what is wrong.
 * The key needs only be the gateway's own: the request's key must equal the key the previous
 * answer was bound under (history + answer, read by dialect-taps.ts). So an assistant turn is
 * its text parts joined with nothing between them and its calls, and consecutive model turns
 * are one (a streamed Gemini answer is echoed back by @google/genai as one content per chunk).
 */
import { parseModelAction } from '../api/index.ts';
import type { KeyedMessage } from '../history-key.ts';
import {
  asString,
  assistantTurn,
  isRecord,
  records,
  textParts,
  type TappedCall,
} from './answer-tap.ts';
import { conversationKeys, readJsonObject, type ChatRequest } from './chat-request.ts';

/** POST /v1/messages (`counting`: /v1/messages/count_tokens, which binds nothing). */
export function parseAnthropicRequest(raw: unknown, counting = false): ChatRequest {
  const fields = readJsonObject(raw);
  const messages = counting ? [] : anthropicHistory(fields);
  return {
    raw: raw as Buffer,
    dialect: 'anthropic',
    model: typeof fields['model'] === 'string' ? fields['model'] : null,
    stream: !counting && fields['stream'] === true,
    messages,
    conversationId: null,
    ...conversationKeys(messages),
    fileKeys: [],
  };
}

/**
 * POST /v1beta/models/{segment}, segment `{model}:{method}`; `search` is the query (`?alt=sse`),
 * passed on without `key` (the key goes as x-goog-api-key, never in a URL a log may keep).
 */
export function parseGoogleRequest(raw: unknown, segment: string, search: string): ChatRequest {
  const { model, method } = parseModelAction(segment);
  const fields = readJsonObject(raw);
  const messages = method === 'countTokens' ? [] : googleHistory(fields);
  const query = new URLSearchParams(search);
  query.delete('key');
  const rest = query.toString();
  return {
    raw: raw as Buffer,
    dialect: 'google',
    model,
    stream: method === 'streamGenerateContent',
    path: `/v1beta/models/${encodeURIComponent(model)}:${method}${rest === '' ? '' : `?${rest}`}`,
    messages,
    conversationId: null,
    ...conversationKeys(messages),
    fileKeys: [],
  };
}

const keyedCall = (id: unknown, name: unknown, input: unknown): TappedCall => ({
  id: asString(id),
  type: 'function',
  function: { name: asString(name), arguments: JSON.stringify(input ?? {}) },
});

/**
 * A user turn: its text first, then its tool results, so a turn that answers calls and adds a
 * word (as Claude Code's do) keys its history up to the answer that made the calls.
 */
function userTurn(texts: readonly string[], results: readonly KeyedMessage[]): KeyedMessage[] {
  return [
    ...(texts.length > 0 || results.length === 0
      ? [{ role: 'user', content: texts.join('\n') }]
      : []),
    ...results,
  ];
}

function anthropicHistory(fields: Record<string, unknown>): KeyedMessage[] {
  const system = fields['system'];
  const systemText = typeof system === 'string' ? system : textParts(records(system)).join('\n');
  const out: KeyedMessage[] = systemText === '' ? [] : [{ role: 'system', content: systemText }];
  for (const m of records(fields['messages'])) {
    const content = m['content'];
    const blocks =
      typeof content === 'string' ? [{ type: 'text', text: content }] : records(content);
    const texts = textParts(blocks, (b) => b['type'] !== 'text');
    if (m['role'] === 'assistant') {
      const calls = blocks
        .filter((b) => b['type'] === 'tool_use')
        .map((b) => keyedCall(b['id'], b['name'], b['input']));
      out.push(assistantTurn(texts, calls));
    } else if (m['role'] === 'system') {
      out.push({ role: 'system', content: texts.join('\n') });
    } else {
      const results = blocks
        .filter((b) => b['type'] === 'tool_result')
        .map((b) => ({
          role: 'tool',
          tool_call_id: asString(b['tool_use_id']),
          content:
            typeof b['content'] === 'string'
              ? b['content']
              : textParts(records(b['content'])).join('\n'),
        }));
      out.push(...userTurn(texts, results));
    }
  }
  return out;
}

/** A field by its camelCase name or, as the REST API also takes it, snake_case. */
function field(o: Record<string, unknown>, name: string): unknown {
  return o[name] ?? o[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
}

function googleHistory(fields: Record<string, unknown>): KeyedMessage[] {
  const system = field(fields, 'systemInstruction');
  const systemText =
    typeof system === 'string'
      ? system
      : isRecord(system)
        ? textParts(records(system['parts'])).join('\n')
        : '';
  const out: KeyedMessage[] = systemText === '' ? [] : [{ role: 'system', content: systemText }];
  for (const c of records(fields['contents'])) {
    const parts = records(c['parts']);
    if (c['role'] === 'model') {
      const texts = textParts(parts, (p) => p['thought'] === true);
      const calls = parts.flatMap((p) => {
        const call = field(p, 'functionCall');
        return isRecord(call) ? [keyedCall('', call['name'], call['args'])] : [];
      });
      const last = out.at(-1);
      // One answer streamed as many chunks may come back as many model contents: one turn.
      if (last?.role === 'assistant') {
        out[out.length - 1] = mergeAssistant(last, texts, calls);
      } else {
        out.push(assistantTurn(texts, calls));
      }
    } else {
      const results = parts.flatMap((p) => {
        const answer = field(p, 'functionResponse');
        return isRecord(answer)
          ? [
              {
                role: 'tool',
                tool_call_id: asString(answer['name']),
                content: JSON.stringify(answer['response'] ?? {}),
              },
            ]
          : [];
      });
      out.push(
        ...userTurn(
          textParts(parts, (p) => p['thought'] === true),
          results,
        ),
      );
    }
  }
  return out;
}

/** An assistant turn continued by more texts and calls. */
function mergeAssistant(
  last: KeyedMessage,
  texts: readonly string[],
  calls: readonly TappedCall[],
): KeyedMessage {
  const before = Array.isArray(last.tool_calls) ? (last.tool_calls as TappedCall[]) : [];
  return assistantTurn([asString(last.content), ...texts], [...before, ...calls]);
}
