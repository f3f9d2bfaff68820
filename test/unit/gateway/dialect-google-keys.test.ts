/**
 * What the gateway reads from Gemini requests and answers (pure), and how a stream broken after
 * commit ends in each dialect.
 */
import { describe, expect, it } from 'vitest';
import { brokenAnswerTail } from '../../../src/gateway/broken-stream.ts';
import { parseGoogleRequest } from '../../../src/gateway/dialect-request.ts';
import { keyAfter, raw } from './dialect-fixtures.ts';

describe('Gemini requests', () => {
  const user = (text: string) => ({ role: 'user', parts: [{ text }] });

  it('reads the model and the method from the path, passes the query on without the key', () => {
    const body = raw({ contents: [user('Hi')] });
    const streamed = parseGoogleRequest(
      body,
      'gemini-2.5-flash:streamGenerateContent',
      '?alt=sse&key=sk-secret',
    );
    expect(streamed).toMatchObject({
      dialect: 'google',
      model: 'gemini-2.5-flash',
      stream: true,
      keys: [],
    });
    expect(streamed.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const whole = parseGoogleRequest(
      body,
      'models/gemini-2.5-pro:generateContent',
      '?key=sk-secret',
    );
    expect(whole).toMatchObject({ model: 'gemini-2.5-pro', stream: false });
    expect(whole.path).toBe('/v1beta/models/gemini-2.5-pro:generateContent');
    const long = raw({
      contents: [user('a'), { role: 'model', parts: [{ text: 'b' }] }, user('c')],
    });
    expect(parseGoogleRequest(long, 'g:countTokens', '').keys).toEqual([]);
    expect(parseGoogleRequest(long, 'g:generateContent', '').keys).toHaveLength(1);
    expect(() => parseGoogleRequest(body, 'gemini-2.5-flash:embedContent', '')).toThrow(/method/);
  });

  const first = parseGoogleRequest(
    raw({ systemInstruction: { parts: [{ text: 'S' }] }, contents: [user('Weather in Oslo?')] }),
    'g:generateContent',
    '',
  );
  const call = { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } };
  const chunk = (parts: unknown[], finishReason?: string) => ({
    candidates: [
      { content: { role: 'model', parts }, ...(finishReason ? { finishReason } : {}), index: 0 },
    ],
  });

  it('keys the next turn alike whether the answer came whole, as SSE or as a JSON array, and however the client echoes it', () => {
    const whole = chunk([{ text: 'plan', thought: true }, { text: 'Let me check.' }, call], 'STOP');
    const chunks = [
      chunk([{ text: 'Let me ' }]),
      chunk([{ text: 'check.' }]),
      chunk([call]),
      chunk([{ text: '' }], 'STOP'),
    ];
    const keys = [
      keyAfter('google', false, JSON.stringify(whole), first.messages),
      keyAfter(
        'google',
        true,
        chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join(''),
        first.messages,
      ),
      keyAfter(
        'google',
        false,
        `[${chunks.map((c) => JSON.stringify(c)).join('\r\n,')}]`,
        first.messages,
        3,
      ),
    ];
    const answer = { functionResponse: { name: 'get_weather', response: { output: 'sunny' } } };
    const echoedWhole = parseGoogleRequest(
      raw({
        system_instruction: { parts: [{ text: 'S' }] },
        contents: [
          user('Weather in Oslo?'),
          whole.candidates[0]!.content,
          { role: 'user', parts: [answer] },
        ],
      }),
      'g:streamGenerateContent',
      '',
    );
    // @google/genai's chat keeps a streamed answer as one content per chunk.
    const echoedChunks = parseGoogleRequest(
      raw({
        systemInstruction: 'S',
        contents: [
          user('Weather in Oslo?'),
          ...chunks.map((c) => c.candidates[0]!.content),
          { role: 'user', parts: [answer] },
        ],
      }),
      'g:generateContent',
      '',
    );
    expect(echoedWhole.keys).toHaveLength(1);
    expect(echoedChunks.keys).toEqual(echoedWhole.keys);
    expect(keys).toEqual([echoedWhole.keys[0], echoedWhole.keys[0], echoedWhole.keys[0]]);
  });

  it('binds nothing for an error chunk or a stream with no finish', () => {
    const cut = `data: ${JSON.stringify(chunk([{ text: 'a' }]))}\r\n\r\n`;
    expect(keyAfter('google', true, cut, first.messages)).toBeNull();
    const failed = `${cut}data: {"error":{"code":500,"status":"INTERNAL"}}\r\n\r\n`;
    expect(keyAfter('google', true, failed, first.messages)).toBeNull();
    expect(
      keyAfter(
        'google',
        false,
        `[${JSON.stringify(chunk([{ text: 'a' }]))}\r\n,{"error":{}}]`,
        first.messages,
      ),
    ).toBeNull();
  });
});

describe('a stream broken after commit', () => {
  const dataOf = (tail: string | null, prefix: string) => {
    const line = tail?.split(/\r?\n/).find((l) => l.startsWith(prefix));
    return JSON.parse(line?.slice(prefix.length) ?? 'null') as unknown;
  };

  it("ends in each dialect's own error framing", () => {
    const openai = brokenAnswerTail('openai', 'sse');
    expect(dataOf(openai, 'data: ')).toMatchObject({ error: { code: 'upstream_outcome_unknown' } });
    expect(openai).toMatch(/data: \[DONE\]\n\n$/);
    const anthropic = brokenAnswerTail('anthropic', 'sse');
    expect(anthropic).toContain('\n\nevent: error\n');
    expect(dataOf(anthropic, 'data: ')).toMatchObject({
      type: 'error',
      error: { type: 'api_error' },
    });
    expect(dataOf(brokenAnswerTail('google', 'sse'), 'data: ')).toMatchObject({
      error: { code: 502, status: 'INTERNAL' },
    });
    const array = `[${JSON.stringify({ candidates: [] })}${brokenAnswerTail('google', 'json-array')}`;
    expect((JSON.parse(array) as unknown[])[1]).toMatchObject({ error: { status: 'INTERNAL' } });
    expect(brokenAnswerTail('anthropic', 'other')).toBeNull();
  });
});
