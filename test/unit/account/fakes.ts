/**
 * Test doubles for the upstream (Google stands in here, never our own modules): a scripted
 * Generate, a settable clock, a temporary DATA_DIR, and the clean-up of the accounts a test opens.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { AccountState, Generate } from '../../../src/account/index.ts';
import {
  GeminiError,
  type FailureKind,
  type GenerateEvent,
  type GenerateRequest,
  type ModelSpec,
  type SendOutcome,
  type SendStage,
} from '../../../src/gemini/index.ts';

/** One scripted upstream call: events to yield, then optionally a failure. */
export interface ScriptedCall {
  readonly events?: GenerateEvent[];
  readonly fail?: FailureKind | Error;
  /**
   * How far the send got when it failed: null when nothing was sent (the session did not load).
   * Default: `after_accept` once events came, else `rejected_before_generation`.
   */
  readonly stage?: SendStage | null;
  /** Resolve this promise before finishing (lets a test hold a call open). */
  readonly hold?: Promise<void>;
}

const OUTCOME: Record<SendStage, SendOutcome> = {
  before_response: 'failed_before_response',
  http_status: 'http_error',
  rejected_before_generation: 'rejected_before_generation',
  no_response: 'no_response',
  after_accept: 'cut_after_accept',
};

export interface ScriptedGenerate {
  readonly generate: Generate;
  /** Every request that reached upstream (past the gate's ready()), in order. */
  readonly calls: GenerateRequest[];
  /** Every call made, reached upstream or refused at the gate. */
  readonly made: () => number;
}

/**
 * A Generate that plays `script`, one entry per call that reaches upstream; one past the end
 * fails the test. Like the real client it waits for the gate's ready() before anything (the
 * admission), and opens `req.gate` before each send and closes it with the send's outcome.
 */
export function scriptedGenerate(script: ScriptedCall[]): ScriptedGenerate {
  const calls: GenerateRequest[] = [];
  let made = 0;
  const generate: Generate = (req) => {
    made += 1;
    return play(req, calls, script);
  };
  return { generate, calls, made: () => made };
}

async function* play(
  req: GenerateRequest,
  calls: GenerateRequest[],
  script: ScriptedCall[],
): AsyncGenerator<GenerateEvent> {
  await req.gate?.ready?.();
  const step = script[calls.length];
  calls.push(req);
  if (!step) {
    throw new Error(`unexpected upstream call #${calls.length}`);
  }
  const stage =
    step.stage === undefined
      ? step.events?.length
        ? 'after_accept'
        : 'rejected_before_generation'
      : step.stage;
  if (stage !== null) {
    await req.gate?.open();
  }
  for (const event of step.events ?? []) {
    yield event;
  }
  if (step.hold) {
    await step.hold;
  }
  if (!step.fail) {
    req.gate?.close('accepted');
    return;
  }
  if (stage !== null) {
    req.gate?.close(OUTCOME[stage]);
  }
  if (step.fail instanceof Error) {
    throw step.fail;
  }
  throw new GeminiError(step.fail, `upstream said ${step.fail}`, { stage });
}

export const text = (delta: string): GenerateEvent => ({ type: 'text', delta });

export const done = (answer: string): GenerateEvent => ({
  type: 'done',
  result: { text: answer, thoughts: '', images: [], chat: null, modelName: null },
});

export const MODEL: ModelSpec = { name: 'gemini-2.5-flash', header: null, thinking: false };

/** A clock the test moves by hand. */
export function fakeClock(startMs = 1_700_000_000_000): {
  now: () => number;
  advance(ms: number): void;
} {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gk-account-'));
}

/**
 * The accounts and DATA_DIRs a test file opens, closed and removed after each test (registers
 * the afterEach): `track(account)` returns it, `newDir()` makes a DATA_DIR.
 */
export function trackAccounts(): {
  track: (a: AccountState) => AccountState;
  newDir: () => string;
} {
  const opened: AccountState[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((a) => a.close()));
    for (const d of dirs.splice(0)) {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
  return {
    track: (a) => {
      opened.push(a);
      return a;
    },
    newDir: () => {
      const d = tempDataDir();
      dirs.push(d);
      return d;
    },
  };
}

/** Collects a stream, returning the events and the error it ended with (if any). */
export async function drain<T>(stream: AsyncIterable<T>): Promise<{ events: T[]; error: unknown }> {
  const events: T[] = [];
  try {
    for await (const e of stream) {
      events.push(e);
    }
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}
