/**
 * StreamGenerate's body read into answer events: frames parsed as they arrive, every part shown
 * to the send tracker (which decides whether the prompt was taken), and every shape the parser
 * does not know reported as drift. Returns the finished result once the body ends.
 */
import type { DriftSink } from './drift.ts';
import { readFrames } from './frames.ts';
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
  for await (const frame of readFrames(body, () => drift('frame_unparsable'))) {
    for (const part of parser.parse(frame)) {
      if (part.kind === 'drift') {
        drift(part.drift);
      }
      send.see(part);
      // A loop, not `yield*`: delegating to an array from an async generator wraps it in an
      // async-from-sync iterator, a promise and result object per event.
      for (const event of answer.push(part)) {
        yield event;
      }
    }
  }
  const { events, result } = answer.finish();
  for (const event of events) {
    yield event;
  }
  return result;
}
