/**
 * The Anthropic Messages API through the official @anthropic-ai/sdk, unmodified but for its
 * base URL and key, against a worker and against the gateway: create (a claude-* name mapped,
 * the conversation continued natively), stream with finalMessage() and the exact event types,
 * a tool-use loop, a base64 image, count_tokens, max_tokens and stop_sequences, and a cooling
 * account arriving as RateLimitError. The emulator's records prove what went upstream.
 */
import Anthropic from '@anthropic-ai/sdk';
import type {
  MessageParam,
  RawMessageStreamEvent,
  Tool,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import type { UpstreamRecord } from '../../src/emulator/index.ts';
import type { DialectTarget } from './target.ts';

const PNG_1PX =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const WEATHER: Tool = {
  name: 'get_weather',
  description: 'The weather in a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

const ask = (content: string): MessageParam[] => [{ role: 'user', content }];
const eventName = (e: RawMessageStreamEvent): string =>
  e.type === 'content_block_delta' ? `${e.type}:${e.delta.type}` : e.type;
const textOf = (message: Anthropic.Message): string =>
  message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');

/**
 * Registers the Anthropic cases, in a `describe('anthropic via <name>')`, for `target()` (read lazily,
 * inside the tests: the stack starts in beforeAll).
 */
export function anthropicCases(name: string, target: () => DialectTarget): void {
  describe(`anthropic via ${name}`, () => {
    const client = (): Anthropic =>
      new Anthropic({ apiKey: target().apiKey, baseURL: target().origin, maxRetries: 0 });
    const sends = (): UpstreamRecord[] =>
      target()
        .emulator.records()
        .filter((r) => r.kind === 'generate' && r.email === target().email);
    const sendsOf = (text: string): UpstreamRecord[] =>
      sends().filter((r) => r.prompt?.includes(text));

    it('messages.create answers as the claude-* model asked for, and continues natively', async () => {
      const hello = `hello from the anthropic sdk via ${name}`;
      const first = await client().messages.create({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 1024,
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: ask(hello),
      });
      expect(first).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        stop_reason: 'end_turn',
        stop_sequence: null,
      });
      expect(first.id).toMatch(/^msg_/);
      expect(textOf(first)).toContain(hello);
      expect(first.usage.input_tokens).toBeGreaterThan(0);
      expect(first.usage.output_tokens).toBeGreaterThan(0);
      const again = `and once more via ${name}`;
      const second = await client().messages.create({
        model: 'claude-sonnet-4-5-20250929',
        max_tokens: 1024,
        system: [{ type: 'text', text: 'Be brief.' }],
        messages: [...ask(hello), { role: 'assistant', content: first.content }, ...ask(again)],
      });
      expect(textOf(second)).toContain(again);
      // The resent history matched: only the new turn went up, in the chat the first one began.
      const [up] = sendsOf(again);
      expect(up?.cid).toMatch(/\S/);
      expect(up?.prompt).not.toContain(hello);
      expect(sendsOf(hello)).toHaveLength(1);
    });

    it('messages.stream: the exact event types, thinking first; finalMessage() assembles them', async () => {
      const prompt = `think it over via ${name}`;
      const stream = client().messages.stream({
        model: 'gemini-3-flash-thinking',
        max_tokens: 1024,
        messages: ask(prompt),
      });
      const seen: string[] = [];
      const texts: string[] = [];
      stream.on('streamEvent', (e) => seen.push(eventName(e)));
      stream.on('text', (t) => texts.push(t));
      const final = await stream.finalMessage();
      expect([...new Set(seen)]).toEqual([
        'message_start',
        'content_block_start',
        'content_block_delta:thinking_delta',
        'content_block_stop',
        'content_block_delta:text_delta',
        'message_delta',
        'message_stop',
      ]);
      expect(seen.at(-1)).toBe('message_stop');
      expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
      expect(texts.join('')).toBe(textOf(final));
      expect(textOf(final)).toContain(prompt);
      expect(final.stop_reason).toBe('end_turn');
      expect(final.usage.output_tokens).toBeGreaterThan(0);
    });

    it('a tool-use loop: a streamed tool_use with an id, its tool_result answered in the same chat, the call asked again with a new id', async () => {
      const messages = ask(`weather please via ${name}\ncall get_weather {"city": "Oslo"}`);
      const stream = client().messages.stream({
        model: 'gemini-2.5-flash',
        max_tokens: 1024,
        tools: [WEATHER],
        messages,
      });
      const seen: string[] = [];
      stream.on('streamEvent', (e) => seen.push(eventName(e)));
      const first = await stream.finalMessage();
      expect(seen).toContain('content_block_delta:input_json_delta');
      expect(first.stop_reason).toBe('tool_use');
      const call = first.content.find((b): b is ToolUseBlock => b.type === 'tool_use');
      expect(call).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
      expect(call?.id).toMatch(/\S/);
      const before = sends().length;
      const answered: MessageParam[] = [
        ...messages,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: call!.id, content: 'Sunny, 21 C' }],
        },
      ];
      const second = await client().messages.create({
        model: 'gemini-2.5-flash',
        max_tokens: 1024,
        tools: [WEATHER],
        messages: answered,
      });
      expect(second.stop_reason).toBe('end_turn');
      expect(textOf(second)).toContain('get_weather: Sunny, 21 C');
      const [up] = sends().slice(before);
      expect(up?.cid).toMatch(/\S/);
      expect(up?.prompt).not.toContain('weather please');
      // The same call asked again later in the conversation is another tool_use, with its own id.
      const again = await client().messages.create({
        model: 'gemini-2.5-flash',
        max_tokens: 1024,
        tools: [WEATHER],
        messages: [
          ...answered,
          { role: 'assistant', content: second.content },
          { role: 'user', content: 'call get_weather {"city": "Oslo"}' },
        ],
      });
      const repeated = again.content.find((b): b is ToolUseBlock => b.type === 'tool_use');
      expect(repeated).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
      expect(repeated?.id).not.toBe(call?.id);
      expect(sends().at(-1)?.cid).toBe(up?.cid);
    });

    it('an image as base64 goes up as a file', async () => {
      const prompt = `describe this picture via ${name}`;
      const message = await client().messages.create({
        model: 'gemini-2.5-flash',
        max_tokens: 1024,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: prompt },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_1PX } },
            ],
          },
        ],
      });
      expect(textOf(message)).toMatch(/received 1 file/i);
      expect(sendsOf(prompt)[0]?.fileIds).toHaveLength(1);
    });

    it('count_tokens counts what create would send, and sends nothing upstream', async () => {
      const body = {
        model: 'claude-haiku-4-5',
        system: 'Be brief.',
        tools: [WEATHER],
        messages: ask(`count me via ${name}`),
      };
      const before = sends().length;
      const counted = await client().messages.countTokens(body);
      const longer = await client().messages.countTokens({
        ...body,
        messages: ask(`count me via ${name}, with many more words than before`),
      });
      expect(sends()).toHaveLength(before);
      expect(counted.input_tokens).toBeGreaterThan(0);
      expect(longer.input_tokens).toBeGreaterThan(counted.input_tokens);
      const created = await client().messages.create({ ...body, max_tokens: 1024 });
      expect(created.usage.input_tokens).toBe(counted.input_tokens);
    });

    it('max_tokens ends as max_tokens; stop_sequences as stop_sequence, naming it', async () => {
      const cut = await client().messages.create({
        model: 'gemini-2.5-flash',
        max_tokens: 3,
        messages: ask(`count one two three four five six seven eight via ${name}`),
      });
      expect(cut.stop_reason).toBe('max_tokens');
      expect(cut.usage.output_tokens).toBeLessThanOrEqual(3);
      const stopped = await client().messages.create({
        model: 'gemini-2.5-flash',
        max_tokens: 1024,
        stop_sequences: ['ZULU'],
        messages: ask(`letters alpha ZULU omega via ${name}`),
      });
      expect(stopped).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'ZULU' });
      expect(textOf(stopped)).toMatch(/alpha $/);
    });

    it('a cooling account arrives as RateLimitError with retry-after, sent upstream once', async () => {
      const t = target();
      const prompt = `quota via ${name}`;
      t.emulator.injectFault(t.email, 'usage_limit', { times: 1 });
      try {
        const err: unknown = await client()
          .messages.create({ model: 'gemini-2.5-flash', max_tokens: 64, messages: ask(prompt) })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Anthropic.RateLimitError);
        const limited = err as InstanceType<typeof Anthropic.RateLimitError>;
        expect(limited.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
        expect(Number(limited.headers?.get('retry-after'))).toBeGreaterThan(0);
        expect(sendsOf(prompt)).toHaveLength(1);
        // During the cooldown nothing goes up: the worker says 429; the gateway, once its registry
        // shows the pool all cooling, 529 overloaded.
        await t.untilCooling();
        const during = `during the cooldown via ${name}`;
        const next: unknown = await client()
          .messages.create({ model: 'gemini-2.5-flash', max_tokens: 64, messages: ask(during) })
          .catch((e: unknown) => e);
        expect(next).toBeInstanceOf(Anthropic.APIError);
        expect((next as InstanceType<typeof Anthropic.APIError>).status).toBe(
          name === 'gateway' ? 529 : 429,
        );
        expect(sendsOf(during)).toHaveLength(0);
      } finally {
        t.emulator.clearFaults(t.email);
        await t.resetCooldown();
      }
    });
  });
}
