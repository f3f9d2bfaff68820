/**
 * runGuarded against DESIGN.md's failure table, one row at a time, with a scripted upstream and a
 * real AccountState (in-memory store, temporary DATA_DIR, hand-moved clock).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AccountState,
  SendLedger,
  runGuarded,
  type ChatJob,
  type GuardDeps,
  type JobInput,
} from '../../../src/account/index.ts';
import { AppError, UpstreamOutcomeUnknownError } from '../../../src/errors.ts';
import { GeminiError, type ChatMetadata } from '../../../src/gemini/index.ts';
import {
  MODEL,
  done,
  drain,
  fakeClock,
  scriptedGenerate,
  tempDataDir,
  text,
  type ScriptedCall,
} from './fakes.ts';

const QUOTA_MS = 3_600_000;
const JITTER_MS = 300_000;
const TRANSIENT_MS = 60_000;
const CHAT: ChatMetadata = { cid: 'c_1', rid: 'r_1', rcid: 'rc_1' };

const job = (over: Partial<ChatJob> = {}): ChatJob => ({
  requestId: 'req-1',
  model: MODEL,
  prompt: 'hello',
  inputs: [],
  chat: null,
  replayPrompt: null,
  ...over,
});

const opened: AccountState[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
  for (const d of dirs.splice(0)) {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

async function setup(script: ScriptedCall[]) {
  const clock = fakeClock();
  const dataDir = tempDataDir();
  dirs.push(dataDir);
  const account = await AccountState.open({
    account: 'acc@example.com',
    dataDir,
    cooldown: { quotaMs: QUOTA_MS, jitterMs: JITTER_MS, transientMs: TRANSIENT_MS },
    syncIntervalMs: 0,
    now: clock.now,
    random: () => 0.5,
  });
  opened.push(account);
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

describe('runGuarded: success', () => {
  it('streams the events, calls upstream once, and marks the session logged in', async () => {
    const t = await setup([{ events: [text('Hi'), text(' there'), done('Hi there')] }]);
    const input = { path: '/tmp/in-1', fileName: 'a.png', mimeType: 'image/png' };
    const r = await t.run(job({ inputs: [input], chat: CHAT }));
    expect(r.error).toBeUndefined();
    expect(r.events.map((e) => e.type)).toEqual(['text', 'text', 'done']);
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.upload).toHaveBeenCalledTimes(1);
    expect(t.upload.mock.calls[0]?.[0]).toEqual(input);
    expect(t.upstream.calls[0]).toMatchObject({
      prompt: 'hello',
      chat: CHAT,
      files: [{ fileId: 'id-a.png', fileName: 'a.png' }],
      model: MODEL,
    });
    expect(t.ledger()).toMatchObject({ sends: 1, mayHaveTaken: true });
    expect(t.upstream.calls[0]?.signal).toBeInstanceOf(AbortSignal);
    expect(t.account.snapshot()).toMatchObject({ phase: 'ready', loginState: 'logged_in' });
    expect(t.account.snapshot().lastSuccessAt).not.toBeNull();
  });
});

describe.each(['quota', 'ip_blocked'] as const)('runGuarded: %s', (kind) => {
  it('cools the account down with jitter, answers 429 with Retry-After, and blocks upstream', async () => {
    const t = await setup([{ fail: kind }]);
    const r = await t.run();
    expect(r.error).toBeInstanceOf(GeminiError);
    const err = r.error as GeminiError;
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(429);
    // random() = 0.5 gives half the jitter.
    const restMs = QUOTA_MS + JITTER_MS / 2;
    expect(err.retryAfterS).toBe(restMs / 1000);
    expect(t.account.snapshot().cooldown).toEqual({ until: t.clock.now() + restMs, reason: kind });
    expect(t.upstream.calls).toHaveLength(1);

    t.clock.advance(restMs - 10_000);
    const again = await t.run();
    expect(again.error).toBeInstanceOf(AppError);
    expect(again.error).toMatchObject({
      status: 429,
      retryAfterS: 10,
      code: 'account_cooling_down',
    });
    expect(t.upstream.calls).toHaveLength(1);
  });
});

describe('runGuarded: auth', () => {
  it('marks login_required and answers 503 telling to sign in over VNC, until signed in', async () => {
    const t = await setup([{ fail: 'auth' }, { events: [text('back'), done('back')] }]);
    const r = await t.run();
    expect(r.error).toMatchObject({ status: 503, code: 'login_required', retryAfterS: 30 });
    expect((r.error as Error).message).toMatch(/VNC/);
    expect(t.account.snapshot()).toMatchObject({ phase: 'login_required', cooldown: null });

    const blocked = await t.run();
    expect(blocked.error).toMatchObject({ status: 503, code: 'login_required', retryAfterS: 30 });
    expect(t.upstream.calls).toHaveLength(1);

    await t.account.setLoginState('logged_in');
    const ok = await t.run();
    expect(ok.error).toBeUndefined();
    expect(t.upstream.calls).toHaveLength(2);
  });
});

describe('runGuarded: transient', () => {
  it('retries once after the backoff and serves the retry', async () => {
    const t = await setup([{ fail: 'transient' }, { events: [text('ok'), done('ok')] }]);
    const r = await t.run(job({ chat: CHAT }));
    expect(r.error).toBeUndefined();
    expect(r.events.map((e) => e.type)).toEqual(['text', 'done']);
    expect(t.upstream.calls).toHaveLength(2);
    expect(t.upstream.calls[1]).toMatchObject({ prompt: 'hello', chat: CHAT });
    expect(t.sleep).toHaveBeenCalledTimes(1);
    expect(t.sleep.mock.calls[0]?.[0]).toBe(250);
    expect(t.account.snapshot().phase).toBe('ready');
  });

  it('fails twice: a short cooldown and the error with Retry-After', async () => {
    const t = await setup([{ fail: 'transient' }, { fail: 'transient' }]);
    const r = await t.run();
    expect(r.error).toMatchObject({ status: 502, kind: 'transient' });
    expect(t.upstream.calls).toHaveLength(2);
    const cooldown = t.account.snapshot().cooldown;
    expect(cooldown?.reason).toBe('transient');
    // Jitter is capped at half the base for short rests: 60 s + 0.5 * 30 s.
    expect(cooldown?.until).toBe(t.clock.now() + TRANSIENT_MS + 15_000);
    expect((r.error as AppError).retryAfterS).toBe(75);
  });

  it('after answer text: never sent again, 502 upstream_outcome_unknown, no cooldown', async () => {
    const t = await setup([{ events: [text('partial')], fail: 'transient' }]);
    const r = await t.run();
    expect(r.events).toEqual([text('partial')]);
    expect(r.error).toBeInstanceOf(UpstreamOutcomeUnknownError);
    expect(r.error).toMatchObject({
      status: 502,
      code: 'upstream_outcome_unknown',
      upstreamSent: true,
    });
    expect((r.error as Error).message).toMatch(/may have reached Gemini/);
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.sleep).not.toHaveBeenCalled();
    expect(t.account.snapshot().cooldown).toBeNull();
  });

  it('a thought delta counts as answered too', async () => {
    const t = await setup([{ events: [{ type: 'thought', delta: 'hmm' }], fail: 'transient' }]);
    const r = await t.run();
    expect(r.error).toMatchObject({ code: 'upstream_outcome_unknown' });
    expect(t.upstream.calls).toHaveLength(1);
  });

  it('a candidate without text (metadata only) is accepted: never sent again', async () => {
    const t = await setup([
      { events: [{ type: 'metadata', chat: CHAT }], fail: 'transient' },
      { events: [text('ok'), done('ok')] },
    ]);
    const r = await t.run();
    expect(r.error).toMatchObject({ code: 'upstream_outcome_unknown' });
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.ledger().mayHaveTaken).toBe(true);
  });
});

describe('runGuarded: at most once upstream (the decision table)', () => {
  it.each(['after_accept', 'no_response'] as const)(
    'a stall or cut at %s, before any text: one send, 502, no cooldown',
    async (stage) => {
      const t = await setup([{ fail: 'transient', stage }, { events: [done('never')] }]);
      const r = await t.run();
      expect(r.error).toMatchObject({ status: 502, code: 'upstream_outcome_unknown' });
      expect(t.upstream.calls).toHaveLength(1);
      expect(t.account.snapshot().cooldown).toBeNull();
      expect(t.ledger()).toMatchObject({ sends: 1, mayHaveTaken: true });
    },
  );

  it.each(['before_response', 'http_status', 'rejected_before_generation'] as const)(
    'a proven rejection at %s is sent once more and served',
    async (stage) => {
      const t = await setup([{ fail: 'transient', stage }, { events: [text('ok'), done('ok')] }]);
      const r = await t.run();
      expect(r.error).toBeUndefined();
      expect(t.upstream.calls).toHaveLength(2);
      expect(t.ledger()).toMatchObject({ sends: 2, mayHaveTaken: true });
    },
  );

  it('two proven rejections: two sends, never a third; said not taken, short cooldown', async () => {
    const t = await setup([
      { fail: 'transient', stage: 'http_status' },
      { fail: 'transient', stage: 'rejected_before_generation' },
      { events: [done('never')] },
    ]);
    const r = await t.run();
    expect(r.error).toMatchObject({ status: 502, kind: 'transient' });
    expect(t.upstream.calls).toHaveLength(2);
    expect(t.ledger()).toMatchObject({ sends: 2, mayHaveTaken: false });
    expect(t.account.snapshot().cooldown?.reason).toBe('transient');
  });

  it('a proven rejection, then a cut: two sends, outcome unknown', async () => {
    const t = await setup([
      { fail: 'transient', stage: 'before_response' },
      { fail: 'transient', stage: 'after_accept' },
    ]);
    const r = await t.run();
    expect(r.error).toMatchObject({ code: 'upstream_outcome_unknown' });
    expect(t.upstream.calls).toHaveLength(2);
  });

  it('a failure before any send (the session did not load) is retried without a send', async () => {
    const t = await setup([{ fail: 'transient', stage: null }, { events: [done('ok')] }]);
    const r = await t.run();
    expect(r.error).toBeUndefined();
    expect(t.ledger().sends).toBe(1);
  });

  it('a rejected retry leaves no budget for the 1097 replay: never a third send', async () => {
    const t = await setup([
      { fail: 'transient', stage: 'rejected_before_generation' },
      { fail: 'followup_rejected' },
      { events: [done('never')] },
    ]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: 'history' }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(2);
    expect(t.ledger().mayHaveTaken).toBe(false);
  });

  it('1097 after a candidate is not replayed', async () => {
    const t = await setup([
      { events: [{ type: 'metadata', chat: CHAT }], fail: 'followup_rejected' },
    ]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: 'history' }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(1);
  });

  it('an account that cools down never uploads: 429 before any upload or send', async () => {
    const t = await setup([{ fail: 'quota' }]);
    await t.run();
    const input = { path: '/tmp/in-2', fileName: 'b.png', mimeType: 'image/png' };
    const r = await t.run(job({ inputs: [input] }));
    expect(r.error).toMatchObject({ status: 429, code: 'account_cooling_down' });
    expect(t.upload).not.toHaveBeenCalled();
    expect(t.upstream.calls).toHaveLength(1);
  });
});

describe('SendLedger', () => {
  it('refuses a third send, and any send after one that may have been taken', async () => {
    const ledger = new SendLedger();
    await ledger.open();
    ledger.close('http_error');
    expect(ledger.canResend()).toBe(true);
    await ledger.open();
    ledger.close('failed_before_response');
    expect(ledger.canResend()).toBe(false);
    await expect(ledger.open()).rejects.toMatchObject({ code: 'upstream_send_refused' });
    expect(ledger).toMatchObject({ sends: 2, mayHaveTaken: false });

    const taken = new SendLedger();
    await taken.open();
    expect(taken.mayHaveTaken).toBe(true);
    taken.close('no_response');
    await expect(taken.open()).rejects.toMatchObject({ upstreamSent: true });
  });

  it('runs the sent mark before the first send only, and counts every outcome', async () => {
    const beforeFirstSend = vi.fn(async () => {});
    const onSend = vi.fn();
    const ledger = new SendLedger({ beforeFirstSend, onSend });
    await ledger.open();
    ledger.close('rejected_before_generation');
    await ledger.open();
    ledger.close('accepted');
    expect(beforeFirstSend).toHaveBeenCalledTimes(1);
    expect(onSend.mock.calls).toEqual([['rejected_before_generation'], ['accepted']]);
  });

  it('a job already marked sent never sends', async () => {
    const t = await setup([{ events: [done('never')] }]);
    const ledger = new SendLedger({
      beforeFirstSend: () =>
        Promise.reject(new UpstreamOutcomeUnknownError('sent by an earlier run')),
    });
    const deps = { account: t.account, generate: t.upstream.generate };
    const r = await drain(runGuarded(job(), deps, new AbortController().signal, ledger));
    expect(r.error).toMatchObject({ code: 'upstream_outcome_unknown', upstreamSent: true });
    expect(ledger.sends).toBe(0);
  });
});

describe('runGuarded: answer already sent', () => {
  it('a quota failure after text still cools the account down but is not retried', async () => {
    const t = await setup([{ events: [text('half')], fail: 'quota' }]);
    const r = await t.run();
    expect(r.events).toEqual([text('half')]);
    expect(r.error).toMatchObject({ status: 429, kind: 'quota' });
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.account.snapshot().phase).toBe('cooling');
  });
});

describe('runGuarded: follow-up rejected (1097)', () => {
  it('replays once as a new chat carrying the history', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { events: [text('re'), done('re')] }]);
    const r = await t.run(
      job({ chat: CHAT, replayPrompt: '[User]: a\n[Model]: b\n[User]: hello' }),
    );
    expect(r.error).toBeUndefined();
    expect(t.upstream.calls).toHaveLength(2);
    expect(t.upstream.calls[1]).toMatchObject({
      chat: null,
      prompt: '[User]: a\n[Model]: b\n[User]: hello',
    });
    expect(t.account.snapshot().cooldown).toBeNull();
  });

  it('the replay uploads the earlier images too, pushing a file already sent only once', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { events: [text('re'), done('re')] }]);
    const current = { path: '/tmp/in-cur', fileName: 'image_1.png', mimeType: 'image/png' };
    const earlier = { path: '/tmp/kept-a', fileName: 'image_1.png', mimeType: 'image/png' };
    const asSecond = { ...current, fileName: 'image_2.png' };
    const again = { ...current };
    const r = await t.run(
      job({
        chat: CHAT,
        inputs: [current],
        replayPrompt: 'the whole history',
        replayInputs: [earlier, asSecond, again],
      }),
    );
    expect(r.error).toBeUndefined();
    expect(t.upstream.calls[0]?.files).toEqual([
      { fileId: 'id-image_1.png', fileName: 'image_1.png' },
    ]);
    expect(t.upstream.calls[1]?.files?.map((f) => f.fileName)).toEqual([
      'image_1.png',
      'image_2.png',
      'image_1.png',
    ]);
    // current (first send), earlier, current renamed image_2; `again` is `current` once more.
    expect(t.upload.mock.calls.map((c) => c[0].path)).toEqual([
      '/tmp/in-cur',
      '/tmp/kept-a',
      '/tmp/in-cur',
    ]);
  });

  it('is rethrown when there is no history to replay', async () => {
    const t = await setup([{ fail: 'followup_rejected' }]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: null }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(1);
  });

  it('is rethrown when the replay is rejected too', async () => {
    const t = await setup([{ fail: 'followup_rejected' }, { fail: 'followup_rejected' }]);
    const r = await t.run(job({ chat: CHAT, replayPrompt: 'history' }));
    expect(r.error).toMatchObject({ kind: 'followup_rejected' });
    expect(t.upstream.calls).toHaveLength(2);
  });
});

describe('runGuarded: model', () => {
  it('passes a model error through (400), with no retry and no cooldown', async () => {
    const t = await setup([{ fail: 'model' }]);
    const r = await t.run();
    expect(r.error).toMatchObject({ status: 400, kind: 'model', param: 'model' });
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.account.snapshot()).toMatchObject({ phase: 'ready', cooldown: null });
  });
});

describe('runGuarded: aborts and foreign errors', () => {
  it('does not call upstream when the signal is already aborted', async () => {
    const t = await setup([]);
    const ac = new AbortController();
    ac.abort(new Error('client gone'));
    const r = await t.run(job(), ac.signal);
    expect(r.error).toMatchObject({ message: 'client gone' });
    expect(t.upstream.calls).toHaveLength(0);
  });

  it('passes a non-Gemini error through untouched, with no state change', async () => {
    const boom = new Error('socket hang up');
    const t = await setup([{ fail: boom }]);
    const r = await t.run();
    expect(r.error).toBe(boom);
    expect(t.upstream.calls).toHaveLength(1);
    expect(t.account.snapshot()).toMatchObject({ phase: 'ready', probing: false });
  });

  it('an aborted transient failure is not retried', async () => {
    const ac = new AbortController();
    const failing = new GeminiError('transient', 'network');
    const t = await setup([]);
    let calls = 0;
    // The client leaves while the first attempt is failing: the failure surfaces, no second try.
    // eslint-disable-next-line require-yield
    const generate = async function* () {
      calls += 1;
      ac.abort(new Error('client gone'));
      throw failing;
    };
    const r = await drain(runGuarded(job(), { account: t.account, generate }, ac.signal));
    expect(calls).toBe(1);
    expect(r.error).toBe(failing);
    expect(t.account.snapshot().cooldown).toBeNull();
  });
});

describe('runGuarded: half-open probe', () => {
  async function cooled(script: ScriptedCall[]) {
    const t = await setup([{ fail: 'quota' }, ...script]);
    await t.run();
    t.clock.advance(QUOTA_MS + JITTER_MS);
    expect(t.account.snapshot().phase).toBe('half_open');
    return t;
  }

  it('lets exactly one request through while it probes; its success clears the cooldown', async () => {
    let finish!: () => void;
    const hold = new Promise<void>((resolve) => (finish = resolve));
    const t = await cooled([{ events: [text('probe')], hold }, { events: [done('next')] }]);
    const probe = runGuarded(
      job(),
      { account: t.account, generate: t.upstream.generate },
      new AbortController().signal,
    );
    expect((await probe.next()).value).toEqual(text('probe'));
    expect(t.account.snapshot().probing).toBe(true);

    const refused = await t.run();
    expect(refused.error).toMatchObject({ status: 429, code: 'account_probing', retryAfterS: 5 });
    expect(t.upstream.calls).toHaveLength(2);

    finish();
    expect((await probe.next()).done).toBe(true);
    expect(t.account.snapshot()).toMatchObject({ phase: 'ready', cooldown: null, probing: false });
    expect((await t.run()).error).toBeUndefined();
    expect(t.upstream.calls).toHaveLength(3);
  });

  it('a failed probe starts a new cooldown', async () => {
    const t = await cooled([{ fail: 'quota' }]);
    const before = t.clock.now();
    const r = await t.run();
    expect(r.error).toMatchObject({ status: 429, kind: 'quota' });
    expect(t.account.snapshot()).toMatchObject({ phase: 'cooling', probing: false });
    expect(t.account.snapshot().cooldown?.until).toBe(before + QUOTA_MS + JITTER_MS / 2);
  });

  it('a probe that ends in a model error frees the lock for the next request', async () => {
    const t = await cooled([{ fail: 'model' }, { events: [done('ok')] }]);
    expect((await t.run()).error).toMatchObject({ kind: 'model' });
    expect(t.account.snapshot()).toMatchObject({ phase: 'half_open', probing: false });
    expect((await t.run()).error).toBeUndefined();
    expect(t.account.snapshot().phase).toBe('ready');
  });

  it('a consumer leaving mid-probe frees the lock', async () => {
    const t = await cooled([{ events: [text('a'), text('b')] }, { events: [done('ok')] }]);
    const probe = runGuarded(
      job(),
      { account: t.account, generate: t.upstream.generate },
      new AbortController().signal,
    );
    await probe.next();
    await probe.return(undefined);
    expect(t.account.snapshot()).toMatchObject({ phase: 'half_open', probing: false });
    expect((await t.run()).error).toBeUndefined();
  });
});
