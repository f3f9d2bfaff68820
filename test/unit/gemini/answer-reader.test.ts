/**
 * The answer reader driving the frame splitter itself: events in order across chunk splits, and
 * a part's error never swallowing the events of the parts before it in the same frame.
 */
import { describe, expect, it } from 'vitest';
import { readAnswer } from '../../../src/gemini/answer-reader.ts';
import type { DriftKind } from '../../../src/gemini/drift.ts';
import { GeminiError } from '../../../src/gemini/errors.ts';
import { createSendTracker } from '../../../src/gemini/send-tracker.ts';
import type { GenerateEvent } from '../../../src/gemini/types.ts';
import {
  body,
  chunksOf,
  errorEnvelope,
  inner,
  snapshots,
  splitAt,
  trailer,
  wrb,
} from './support/wire-fixtures.ts';

const enc = new TextEncoder();

async function read(chunks: readonly Uint8Array[]) {
  const events: GenerateEvent[] = [];
  const drift: DriftKind[] = [];
  const it = readAnswer(chunksOf(chunks), createSendTracker(undefined), (k) => drift.push(k));
  for (;;) {
    const step = await it.next();
    if (step.done) {
      return { events, drift, result: step.value };
    }
    events.push(step.value);
  }
}

const textOf = (events: GenerateEvent[]) =>
  events.map((e) => (e.type === 'text' ? e.delta : '')).join('');

describe('readAnswer', () => {
  it('reads the same answer whatever the chunking', async () => {
    const bytes = enc.encode(body(...snapshots('Hello there, chunked world.', 4), ...trailer(4)));
    const whole = await read([bytes]);
    const offsets = Array.from({ length: 40 }, (_, i) => Math.floor((bytes.length * (i + 1)) / 41));
    const split = await read(splitAt(bytes, offsets));
    expect(whole.result.text).toBe('Hello there, chunked world.');
    expect(textOf(whole.events)).toBe('Hello there, chunked world.');
    expect(split.events).toEqual(whole.events);
    expect(split.result).toEqual(whole.result);
  });

  it('yields the text of a frame before failing on an error later in that frame', async () => {
    const frameWithError = [wrb(inner({ text: 'partial answer', status: 1 })), errorEnvelope(1037)];
    const it = readAnswer(
      chunksOf([enc.encode(body(frameWithError, ...trailer(4)))]),
      createSendTracker(undefined),
      () => undefined,
    );
    const seen: GenerateEvent[] = [];
    const err: unknown = await (async () => {
      for await (const ev of it) {
        seen.push(ev);
      }
    })().then(
      () => null,
      (e: unknown) => e,
    );
    expect(textOf(seen)).toBe('partial answer');
    expect(err).toBeInstanceOf(GeminiError);
    expect((err as GeminiError).upstreamCode).toBe(1037);
  });

  it('reports an unparsable line as drift and reads on', async () => {
    const text = `)]}'\nnot json at all\n${body(...snapshots('Still here.', 2), ...trailer(2)).slice(4)}`;
    const { drift, result } = await read([enc.encode(text)]);
    expect(drift).toContain('frame_unparsable');
    expect(result.text).toBe('Still here.');
  });
});
