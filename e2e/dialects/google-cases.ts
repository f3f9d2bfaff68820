/**
 * Google's Gemini API through the official @google/genai SDK, unmodified but for its base URL,
 * against a worker and against the gateway: generateContent, generateContentStream (and the
 * JSON-array framing by raw fetch), function calling with the answer continuing the same Gemini
 * chat, JSON schema output, an inline image, countTokens, models.list, and a cooling account's
 * 429 as the SDK's ApiError. The emulator's records prove what went upstream, and in which chat.
 */
import { ApiError, GoogleGenAI, Type, type Content } from '@google/genai';
import { describe, expect, it } from 'vitest';
import type { DialectTarget } from './target.ts';

const MODEL = 'gemini-2.5-flash';
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const WEATHER = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: Type.OBJECT,
    properties: { city: { type: Type.STRING } },
    required: ['city'],
  },
};

/**
 * Registers the Google cases, in a `describe('google via <name>')`, for `target()` (read lazily,
 * inside the tests: the stack starts in beforeAll).
 */
export function googleCases(name: string, target: () => DialectTarget): void {
  const client = () =>
    new GoogleGenAI({ apiKey: target().apiKey, httpOptions: { baseUrl: target().origin } });
  /** The prompts that went upstream holding `marker`, oldest first. */
  const sends = (marker: string) =>
    target()
      .emulator.records()
      .filter((r) => r.kind === 'generate' && (r.prompt ?? '').includes(marker));
  const tag = (what: string) => `${what} ${name} ${Math.random().toString(36).slice(2, 8)}`;

  describe(`google via ${name}`, () => {
    it('generateContent answers with text, finishReason and usageMetadata', async () => {
      const prompt = tag('hello');
      const res = await client().models.generateContent({ model: MODEL, contents: prompt });
      expect(res.text).toContain(`: ${prompt}`);
      expect(res.candidates?.[0]?.finishReason).toBe('STOP');
      expect(res.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
      expect(res.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
      expect(sends(prompt)).toHaveLength(1);
    });

    it('generateContentStream streams chunks, continued natively by a resent history', async () => {
      const first = tag('stream');
      const chat = client().chats.create({ model: MODEL });
      const chunks = [];
      for await (const c of await chat.sendMessageStream({ message: first })) {
        chunks.push(c);
      }
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.map((c) => c.text ?? '').join('')).toContain(`: ${first}`);
      expect(chunks.at(-1)?.candidates?.[0]?.finishReason).toBe('STOP');
      // The SDK resends the whole history, the streamed answer as one content per chunk.
      const second = tag('follow-up');
      const next = await chat.sendMessage({ message: second });
      expect(next.text).toContain(second);
      const [opened] = sends(first);
      const [followed] = sends(second);
      expect(opened?.cid ?? null).toBeNull();
      expect(followed?.cid).toMatch(/^c_/);
      expect(followed?.prompt).not.toContain(first);
    });

    it('a thinking model streams its thoughts first, as thought parts', async () => {
      const prompt = tag('ponder');
      const chunks = [];
      for await (const c of await client().models.generateContentStream({
        model: 'gemini-3-flash-thinking',
        contents: prompt,
      })) {
        chunks.push(c);
      }
      const parts = chunks.flatMap((c) => c.candidates?.[0]?.content?.parts ?? []);
      expect(parts[0]?.thought).toBe(true);
      expect(
        parts
          .filter((p) => !p.thought)
          .map((p) => p.text ?? '')
          .join(''),
      ).toContain(prompt);
      expect(chunks.at(-1)?.usageMetadata?.thoughtsTokenCount).toBeGreaterThan(0);
    });

    it('function calling: a functionCall, then its functionResponse in the same chat', async () => {
      const city = tag('Oslo').replace(/ /g, '-');
      const config = { tools: [{ functionDeclarations: [WEATHER] }] };
      const question: Content = {
        role: 'user',
        parts: [{ text: `call get_weather {"city": "${city}"}` }],
      };
      const ai = client();
      const first = await ai.models.generateContent({ model: MODEL, contents: [question], config });
      const calls = first.functionCalls ?? [];
      expect(calls.map((c) => ({ name: c.name, args: c.args }))).toEqual([
        { name: 'get_weather', args: { city } },
      ]);
      expect(first.candidates?.[0]?.finishReason).toBe('STOP');
      const answer: Content = {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: `sunny in ${city}` } } },
        ],
      };
      const second = await ai.models.generateContent({
        model: MODEL,
        contents: [question, first.candidates![0]!.content!, answer],
        config,
      });
      expect(second.functionCalls).toBeUndefined();
      expect(second.text).toContain(`sunny in ${city}`);
      const [asked] = sends(city);
      const [result] = sends(`sunny in ${city}`);
      expect(asked?.cid ?? null).toBeNull();
      expect(result?.cid).toMatch(/^c_/);
      expect(result?.prompt).toContain('[Tool result: get_weather');
    });

    it('responseMimeType application/json with responseSchema gives JSON that passes it', async () => {
      const city = tag('Bergen').replace(/ /g, '-');
      const res = await client().models.generateContent({
        model: MODEL,
        contents: `json {"city": "${city}", "temp": 12}`,
        config: {
          responseMimeType: 'application/json',
          responseSchema: {
            type: Type.OBJECT,
            properties: { city: { type: Type.STRING }, temp: { type: Type.INTEGER } },
            required: ['city', 'temp'],
          },
        },
      });
      expect(JSON.parse(res.text ?? '')).toEqual({ city, temp: 12 });
    });

    it('an inlineData image reaches Gemini with the prompt', async () => {
      const prompt = tag('describe');
      const res = await client().models.generateContent({
        model: MODEL,
        contents: [
          {
            role: 'user',
            parts: [{ text: prompt }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }],
          },
        ],
      });
      expect(res.text).toMatch(/I received 1 file\(s\): .*image\/png/);
      expect(sends(prompt)[0]?.fileIds).toHaveLength(1);
    });

    it('countTokens counts what generateContent reports as its prompt', async () => {
      const contents = tag('count these words');
      const ai = client();
      const counted = await ai.models.countTokens({ model: MODEL, contents });
      expect(counted.totalTokens).toBeGreaterThan(0);
      const res = await ai.models.generateContent({ model: MODEL, contents });
      expect(res.usageMetadata?.promptTokenCount).toBe(counted.totalTokens);
    });

    it('models.list and models.get serve the models', async () => {
      const names: string[] = [];
      for await (const model of await client().models.list()) {
        names.push(model.name ?? '');
      }
      expect(names).toContain(`models/${MODEL}`);
      expect((await client().models.get({ model: MODEL })).name).toBe(`models/${MODEL}`);
    });

    it('streams the JSON-array form (no alt) as one JSON array', async () => {
      const prompt = tag('array');
      const { origin, apiKey } = target();
      const res = await fetch(`${origin}/v1beta/models/${MODEL}:streamGenerateContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: prompt }] }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const chunks = JSON.parse(await res.text()) as {
        candidates: { content: { parts: { text?: string }[] }; finishReason?: string }[];
      }[];
      expect(chunks.length).toBeGreaterThan(1);
      const text = chunks.map((c) => c.candidates[0]?.content.parts[0]?.text ?? '').join('');
      expect(text).toContain(`: ${prompt}`);
      expect(chunks.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
    });

    it('a cooling account answers 429 RESOURCE_EXHAUSTED, raised as ApiError', async () => {
      const { emulator, email, origin, apiKey } = target();
      emulator.injectFault(email, 'usage_limit');
      try {
        const err = await client()
          .models.generateContent({ model: MODEL, contents: tag('quota') })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(429);
        // During the cooldown: refused at once, nothing goes upstream.
        const prompt = tag('while cooling');
        const res = await fetch(`${origin}/v1beta/models/${MODEL}:generateContent?key=${apiKey}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ contents: [{ parts: [{ text: prompt }] }] }),
        });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        const body = (await res.json()) as {
          error: { code: number; status: string; details?: { retryDelay?: string }[] };
        };
        expect(body.error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
        expect(body.error.details?.[0]?.retryDelay).toMatch(/^\d+s$/);
        expect(sends(prompt)).toHaveLength(0);
      } finally {
        emulator.clearFaults(email);
        await target().resetCooldown();
      }
    });
  });
}
