/**
 * Runs a StreamGenerate body through frames -> parts -> events, as the client does, and reads
 * the outcome back: the text, the result, or the GeminiError it failed with.
 */
import { GeminiError } from '../../../../src/gemini/errors.ts';
import { readFrames } from '../../../../src/gemini/frames.ts';
import { parseFrame } from '../../../../src/gemini/parse.ts';
import { createAnswerAssembler } from '../../../../src/gemini/stream.ts';
import type { GenerateEvent, GenerateResult } from '../../../../src/gemini/types.ts';
import { chunksOf } from './wire-fixtures.ts';

const enc = new TextEncoder();

/** Every event of a body delivered in these chunks, ending with `done`. */
export async function run(chunks: readonly Uint8Array[]): Promise<GenerateEvent[]> {
  const answer = createAnswerAssembler();
  const events: GenerateEvent[] = [];
  for await (const frame of readFrames(chunksOf(chunks))) {
    for (const part of parseFrame(frame)) {
      events.push(...answer.push(part));
    }
  }
  const { events: last, result } = answer.finish();
  events.push(...last, { type: 'done', result });
  return events;
}

/** Every event of a body delivered in one chunk. */
export const runText = (text: string) => run([enc.encode(text)]);

/** The deltas of one type, joined. */
export function textOf(events: GenerateEvent[], type: 'text' | 'thought' = 'text'): string {
  return events.map((e) => (e.type === type ? e.delta : '')).join('');
}

/** The result of the final `done` event (throws if the events do not end with one). */
export function resultOf(events: GenerateEvent[]): GenerateResult {
  const done = events.at(-1);
  if (done?.type !== 'done') {
    throw new Error('no done event');
  }
  return done.result;
}

/** The GeminiError a body fails with (throws if it does not fail that way). */
export async function failure(text: string): Promise<GeminiError> {
  const err: unknown = await runText(text).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof GeminiError)) {
    throw new Error(`expected a GeminiError, got ${String(err)}`);
  }
  return err;
}
