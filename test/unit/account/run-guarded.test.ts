/**
 * runGuarded against DESIGN.md's failure table, one row at a time, with a scripted upstream and a
 * real AccountState (in-memory store, temporary DATA_DIR, hand-moved clock). The send-once
 * decision table, the 1097 replay and the half-open probe have files of their own.
 */
import { describe, expect, it } from 'vitest';
import { runGuarded } from '../../../src/account/index.ts';
import { AppError, UpstreamOutcomeUnknownError } from '../../../src/errors.ts';
import { GeminiError } from '../../../src/gemini/index.ts';
import { MODEL, done, drain, text } from './fakes.ts';
import { CHAT, JITTER_MS, QUOTA_MS, TRANSIENT_MS, job, setup } from './guard-setup.ts';

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
