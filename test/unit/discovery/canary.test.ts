/**
 * The canary: an answer without text is drift (canary_no_answer), a failure is not (the client
 * counted any drift in it), a round is skipped while the account may not be used, and the timer
 * runs only when enabled.
 */
import { describe, expect, it } from 'vitest';
import { Canary, CANARY_PROMPT, createDriftTally } from '../../../src/discovery/index.ts';
import { createLogger } from '../../../src/logging.ts';

const logger = createLogger({ silent: true });

function canary(
  ask: (prompt: string) => Promise<string>,
  options: { mayRun?: () => boolean; intervalMs?: number } = {},
) {
  const tally = createDriftTally();
  const prompts: string[] = [];
  const c = new Canary({
    intervalMs: options.intervalMs ?? 60_000,
    ask: (prompt) => {
      prompts.push(prompt);
      return ask(prompt);
    },
    ...(options.mayRun ? { mayRun: options.mayRun } : {}),
    onDrift: (kind) => tally.record(kind),
    logger,
  });
  return { c, tally, prompts };
}

describe('Canary', () => {
  it('counts an answer without text as drift, and not an answer or a failure', async () => {
    const answers = ['ok', '  ', null];
    const { c, tally, prompts } = canary(async () => {
      const next = answers.shift();
      if (next === null || next === undefined) {
        throw new Error('quota');
      }
      return next;
    });
    await c.runOnce();
    expect(c.report().lastOutcome).toBe('answered');
    await c.runOnce();
    expect(c.report().lastOutcome).toBe('no_answer');
    await c.runOnce();
    expect(c.report()).toMatchObject({ lastOutcome: 'failed', runs: 3, enabled: true });
    expect(tally.counts()).toEqual({ canary_no_answer: 1 });
    expect(prompts).toEqual([CANARY_PROMPT, CANARY_PROMPT, CANARY_PROMPT]);
    await c.close();
  });

  it('skips a round while the account may not be used, and is off at interval 0', async () => {
    const { c, prompts } = canary(async () => 'ok', { mayRun: () => false });
    await c.runOnce();
    expect(prompts).toEqual([]);
    expect(c.report().runs).toBe(0);
    const off = canary(async () => 'ok', { intervalMs: 0 });
    off.c.start();
    expect(off.c.report().enabled).toBe(false);
    await Promise.all([c.close(), off.c.close()]);
  });
});
