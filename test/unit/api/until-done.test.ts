/**
 * untilDone: the result of `done` without waiting for what follows it, which is read only after
 * the reply had its turn, and whose failure is not the caller's.
 */
import { describe, expect, it } from 'vitest';
import type { GenerateEvent, GenerateResult } from '../../../src/gemini/index.ts';
import { untilDone } from '../../../src/api/until-done.ts';
import { createLogger } from '../../../src/logging.ts';

const RESULT = { text: 'hi' } as unknown as GenerateResult;

/** A generation that records when its consumer reads past `done`. */
async function* generation(log: string[], failAfterDone = false): AsyncGenerator<GenerateEvent> {
  yield { type: 'text', delta: 'hi' };
  yield { type: 'done', result: RESULT };
  log.push('read past done');
  if (failAfterDone) {
    throw new Error('the job failed after its answer');
  }
}

describe('untilDone', () => {
  it('resolves with the result, and reads the rest only in the check phase after', async () => {
    const log: string[] = [];
    const deltas: string[] = [];
    const result = await untilDone(
      generation(log),
      (ev) => void (ev.type === 'text' && deltas.push(ev.delta)),
      createLogger({ silent: true }),
    );
    expect(result).toBe(RESULT);
    expect(deltas).toEqual(['hi']);
    // The reply's own microtasks come first.
    for (let i = 0; i < 50; i += 1) {
      await Promise.resolve();
    }
    expect(log).toEqual([]);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['read past done']);
  });

  it('keeps a failure after done to itself', async () => {
    const log: string[] = [];
    const result = await untilDone(
      generation(log, true),
      () => undefined,
      createLogger({ silent: true }),
    );
    expect(result).toBe(RESULT);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['read past done']);
  });
});
