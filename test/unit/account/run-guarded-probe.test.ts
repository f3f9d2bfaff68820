/** runGuarded on a half-open account: one probe request at a time, and the lock always freed. */
import { describe, expect, it } from 'vitest';
import { runGuarded } from '../../../src/account/index.ts';
import { done, text, type ScriptedCall } from './fakes.ts';
import { JITTER_MS, QUOTA_MS, job, setup } from './guard-setup.ts';

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
