/**
 * StreamGenerate's body read into answer events: frames parsed as they arrive, every part shown
 * to the send tracker (which decides whether the prompt was taken), and every shape the parser
 * does not know reported as drift. Returns the finished result once the body ends.
 */
import type { DriftSink } from './drift.ts';
import { FrameSplitter, type Frame } from './frames.ts';
import { createFrameParser } from './parse.ts';
import type { SendTracker } from './send-tracker.ts';
import { createAnswerAssembler } from './stream.ts';
import type { GenerateEvent, GenerateResult } from './types.ts';

/** Yields the answer's events from `body`, then returns its result; throws a classified error. */
export async function* readAnswer(
  body: AsyncIterable<Uint8Array>,
  send: SendTracker,
  drift: DriftSink,
): AsyncGenerator<GenerateEvent, GenerateResult> {
  const answer = createAnswerAssembler();
  // One parser per reply: it remembers the shape the answer came in for the following frames.
  const parser = createFrameParser();
  const splitter = new FrameSplitter(() => drift('frame_unparsable'));
  // Lazy, part by part: a later part's error must not swallow the events of the parts before it.
  function* eventsOf(frame: Frame): Generator<GenerateEvent> {
    for (const part of parser.parse(frame)) {
      if (part.kind === 'drift') {
        drift(part.drift);
      }
      send.see(part);
      yield* answer.push(part);
    }
  }
  // Plain loops here, not `yield*` nor a frame-reading async generator: each async generator
  // layer, or delegation to a sync iterable, costs promises and result objects per step.
  for await (const chunk of body) {
    for (const frame of splitter.push(chunk)) {
      for (const event of eventsOf(frame)) {
        yield event;
      }
    }
  }
  for (const frame of splitter.end()) {
    for (const event of eventsOf(frame)) {
      yield event;
    }
  }
  const { events, result } = answer.finish();
  for (const event of events) {
    yield event;
  }
  return result;
}
