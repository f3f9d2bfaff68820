/**
 * runGuarded sends a prompt upstream at most once, twice only after a proven rejection: the
 * decision table by send stage, and the SendLedger that enforces it.
 */
import { describe, expect, it, vi } from 'vitest';
import { SendLedger, runGuarded } from '../../../src/account/index.ts';
import { UpstreamOutcomeUnknownError } from '../../../src/errors.ts';
import { done, drain, text } from './fakes.ts';
import { CHAT, job, setup } from './guard-setup.ts';

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
