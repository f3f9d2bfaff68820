/**
 * runGuarded with an admission still on its way (in process it comes with the line's claim): the
 * client prepares the request meanwhile, and nothing reaches Google before the admission has come.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../../src/errors.ts';
import { SendLedger, runGuarded, type Admission } from '../../../src/account/index.ts';
import { done, drain, text } from './fakes.ts';
import { deferred } from '../support/deferred.ts';
import { job, setup } from './guard-setup.ts';

/** A run of one job whose upstream plays `script`, its admission held by the test. */
async function waitingRun(script: Parameters<typeof setup>[0]) {
  const t = await setup(script);
  const admission = deferred<Admission>();
  const ledger = new SendLedger();
  const deps = { account: t.account, generate: t.upstream.generate };
  const signal = new AbortController().signal;
  const run = drain(runGuarded(job(), deps, signal, ledger, admission.promise));
  await sleep(5);
  return { t, admission, ledger, run };
}

describe('runGuarded: an admission that is still coming', () => {
  it('calls the client at once, but it sends only after the admission came', async () => {
    const { t, admission, ledger, run } = await waitingRun([{ events: [text('hi'), done('hi')] }]);
    expect(t.upstream.made()).toBe(1);
    expect(t.upstream.calls).toHaveLength(0);
    expect(ledger.sends).toBe(0);
    admission.resolve(await t.account.admit());
    const r = await run;
    expect(r.error).toBeUndefined();
    expect(r.events.map((e) => e.type)).toEqual(['text', 'done']);
    expect(ledger.sends).toBe(1);
  });

  it('a refusal after the request was prepared passes through: nothing sent, nothing applied', async () => {
    const { t, admission, ledger, run } = await waitingRun([{ events: [done('never')] }]);
    const refusal = new RateLimitError('The account is cooling down.', 30);
    admission.reject(refusal);
    const r = await run;
    expect(r.error).toBe(refusal);
    expect(t.upstream.made()).toBe(1);
    expect(t.upstream.calls).toHaveLength(0);
    expect(ledger.sends).toBe(0);
    expect(ledger.mayHaveTaken).toBe(false);
    expect(t.account.snapshot()).toMatchObject({ phase: 'ready', cooldown: null });
  });

  it('uploads wait for the admission too', async () => {
    const t = await setup([{ events: [done('seen')] }]);
    const admission = deferred<Admission>();
    const deps = { account: t.account, generate: t.upstream.generate, upload: t.upload };
    const input = { path: '/tmp/x.png', fileName: 'x.png', mimeType: 'image/png' };
    const j = job({ inputs: [input] });
    const run = drain(
      runGuarded(j, deps, new AbortController().signal, undefined, admission.promise),
    );
    await sleep(5);
    expect(t.upload).not.toHaveBeenCalled();
    admission.resolve(await t.account.admit());
    expect((await run).error).toBeUndefined();
    expect(t.upload).toHaveBeenCalledTimes(1);
  });

  it('an admission that comes after its consumer left is given back', async () => {
    const t = await setup([]);
    await t.account.coolDown('transient');
    t.clock.advance(3_600_000);
    const admission = deferred<Admission>();
    // A Generate that yields before it asks its gate (the real client never does).
    const generate = async function* () {
      yield text('early');
    };
    const signal = new AbortController().signal;
    const events = runGuarded(
      job(),
      { account: t.account, generate },
      signal,
      undefined,
      admission.promise,
    );
    expect((await events.next()).value).toEqual(text('early'));
    await events.return(undefined);
    // The half-open probe this run is admitted with, once it comes; meanwhile nobody else probes.
    const probe = await t.account.admit();
    expect(probe.probe).toBe(true);
    await expect(t.account.admit()).rejects.toMatchObject({ status: 429 });
    admission.resolve(probe);
    await sleep(5);
    expect((await t.account.admit()).probe).toBe(true);
  });
});
