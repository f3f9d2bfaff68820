/** Shared declarations and an SDK client over an injected fetch, for the Gemini API tests. */
import { GoogleGenAI, Type } from '@google/genai';
import { AnswerStream, type finishAnswer } from '../../../../src/api/core/index.ts';
import {
  createStreamFramer,
  GenerateContentStreamWriter,
  type GenerateContentResponse,
  type StreamFraming,
} from '../../../../src/api/google/index.ts';

export const ANSWER =
  'Checking both.\n\n```tool-call\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n```\n' +
  '```tool-call\n{"name":"get_weather","arguments":{"city":"Rome"}}\n```';
export const WEATHER_DECLARATION = {
  name: 'get_weather',
  description: 'Weather',
  parameters: {
    type: Type.OBJECT,
    properties: { city: { type: Type.STRING } },
    required: ['city'],
  },
};
export const BASE = { responseId: 'resp-1', modelVersion: 'gemini-3-flash' };

export interface Seen {
  url: string;
  body: unknown;
}

/** An SDK client whose fetch records the request (and shows it to `inspect`), then answers with `reply`. */
export function sdkAnswering(
  reply: () => Response,
  seen: Seen[] = [],
  inspect: (init?: RequestInit) => void = () => undefined,
): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: 'test-key',
    httpOptions: {
      baseUrl: 'http://emulated.invalid',
      retryOptions: { attempts: 1 },
      fetch: async (input, init) => {
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : null;
        seen.push({ url: input instanceof Request ? input.url : String(input), body });
        inspect(init);
        return reply();
      },
    },
  });
}

export function framed(chunks: readonly GenerateContentResponse[], framing: StreamFraming): string {
  const framer = createStreamFramer(framing);
  return chunks.map((c) => framer.frame(c)).join('') + framer.end();
}

export function streamedChunks(
  turn: Parameters<typeof finishAnswer>[1],
  text: string,
): GenerateContentResponse[] {
  const writer = new GenerateContentStreamWriter(BASE, 9);
  const stream = new AnswerStream(turn);
  const events = [
    ...(text.match(/[\s\S]{1,6}/g) ?? []).flatMap((c) => stream.push(c)),
    ...stream.end(),
  ];
  return [...writer.thought('Pondering.'), ...events.flatMap((e) => writer.push(e, 4))];
}
