/**
 * The runGuarded test bed: a real AccountState (temporary DATA_DIR, hand-moved clock, random()
 * fixed at 0.5) over a scripted upstream, with sleep and upload as spies. Everything it opens is
 * closed and removed when the calling test finishes.
 */
import fs from 'node:fs';
import { onTestFinished, vi } from 'vitest';
import {
  AccountState,
  SendLedger,
  runGuarded,
  type ChatJob,
  type GuardDeps,
  type JobInput,
} from '../../../src/account/index.ts';
import type { ChatMetadata } from '../../../src/gemini/index.ts';
import {
  MODEL,
  drain,
  fakeClock,
  scriptedGenerate,
  tempDataDir,
  type ScriptedCall,
} from './fakes.ts';

/** The quota cooldown's base. */
export const QUOTA_MS = 3_600_000;
/** The quota cooldown's jitter (random() = 0.5 adds half of it). */
export const JITTER_MS = 300_000;
/** The transient cooldown's base. */
export const TRANSIENT_MS = 60_000;
/** A conversation to continue. */
export const CHAT: ChatMetadata = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };

/** A one-turn job saying hello, with the given fields on top. */
export const job = (over: Partial<ChatJob> = {}): ChatJob => ({
  requestId: 'req-1',
  model: MODEL,
  prompt: 'hello',
  inputs: [],
  chat: null,
  replayPrompt: null,
  ...over,
});

/** A fresh account whose upstream plays `script`; `run` drains one runGuarded with a new ledger. */
export async function setup(script: ScriptedCall[]) {
  const clock = fakeClock();
  const dataDir = tempDataDir();
  const account = await AccountState.open({
    account: 'acc@example.com',
    dataDir,
    cooldown: { quotaMs: QUOTA_MS, jitterMs: JITTER_MS, transientMs: TRANSIENT_MS },
    syncIntervalMs: 0,
    now: clock.now,
    random: () => 0.5,
  });
  onTestFinished(async () => {
    await account.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const upstream = scriptedGenerate(script);
  const sleep = vi.fn(async (_ms: number, _signal: AbortSignal) => {});
  const upload = vi.fn(async (input: JobInput, _signal: AbortSignal) => ({
    fileId: `id-${input.fileName}`,
    fileName: input.fileName,
  }));
  const deps: GuardDeps = {
    account,
    generate: upstream.generate,
    upload,
    transientBackoffMs: 250,
    sleep,
  };
  let ledger = new SendLedger();
  const run = (j: ChatJob = job(), signal = new AbortController().signal) => {
    ledger = new SendLedger();
    return drain(runGuarded(j, deps, signal, ledger));
  };
  return { clock, account, upstream, sleep, upload, run, dataDir, ledger: () => ledger };
}
