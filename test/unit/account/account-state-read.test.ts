/**
 * AccountState.admitRead: admit()'s verdicts on the record the line claim read in its own step
 * (and the probe lock it took there), with the in-memory store standing for Redis, a temporary
 * DATA_DIR and a hand-moved clock.
 */
import { describe, expect, it } from 'vitest';
import {
  AccountState,
  MemoryAccountStore,
  type AccountStore,
  type ClaimedAccountRead,
} from '../../../src/account/index.ts';
import { AppError } from '../../../src/errors.ts';
import { fakeClock, trackAccounts } from './fakes.ts';

const COOLDOWN = { quotaMs: 3_600_000, jitterMs: 0, transientMs: 60_000 };
const { track, newDir } = trackAccounts();

/** An account over `store` whose loads are counted. */
async function open(store: AccountStore, clock: { now: () => number }) {
  let loads = 0;
  const load = store.load.bind(store);
  store.load = () => {
    loads += 1;
    return load();
  };
  const account = await AccountState.open({
    account: 'acc@example.com',
    dataDir: newDir(),
    cooldown: COOLDOWN,
    store,
    syncIntervalMs: 0,
    now: clock.now,
  });
  return { account: track(account), loads: () => loads };
}

/** The claim's read of a hash with these fields. */
function read(
  hash: Record<string, string>,
  over: Partial<ClaimedAccountRead> = {},
): ClaimedAccountRead {
  return { hash, probing: false, probeToken: null, ...over };
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string | null }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return { status: (err as AppError).status, code: (err as AppError).code };
}

describe('AccountState.admitRead', () => {
  it('admits a servable record without reading the store', async () => {
    const clock = fakeClock(1_000_000);
    const { account, loads } = await open(new MemoryAccountStore(), clock);
    const before = loads();
    const hash = { login_state: 'logged_in', cooldown_until: '0', cooldown_reason: '' };
    expect(await account.admitRead(read(hash))).toEqual({ probe: false, token: null });
    expect(loads()).toBe(before);
    expect(account.snapshot()).toMatchObject({ phase: 'ready', loginState: 'logged_in' });
  });

  it('refuses a running cooldown or a signed-out session as admit() does, and gives back a probe it was handed', async () => {
    const clock = fakeClock(1_000_000);
    const store = new MemoryAccountStore();
    const { account } = await open(store, clock);
    const cooling = { cooldown_until: String(clock.now() + 60_000), cooldown_reason: 'quota' };
    expect(await refusal(account.admitRead(read(cooling)))).toEqual(await refusal(account.admit()));
    const token = await store.acquireProbe(60_000, clock.now());
    expect(token).not.toBeNull();
    const signedOut = { login_state: 'login_required' };
    const verdict = await refusal(account.admitRead(read(signedOut, { probeToken: token })));
    expect(verdict.status).toBe(503);
    // The lock the claim took is free again for whoever may probe next.
    expect(await store.acquireProbe(60_000, clock.now())).not.toBeNull();
  });

  it('half-open: the probe lock the claim took makes this request the probe', async () => {
    const clock = fakeClock(1_000_000);
    const store = new MemoryAccountStore();
    const { account, loads } = await open(store, clock);
    const before = loads();
    const ended = { cooldown_until: String(clock.now() - 1), cooldown_reason: 'transient' };
    const admission = await account.admitRead(read(ended, { probeToken: 'claimed' }));
    expect(admission).toEqual({ probe: true, token: 'claimed' });
    expect(loads()).toBe(before);
    expect(account.snapshot()).toMatchObject({ phase: 'half_open', probing: true });
  });

  it('half-open without a lock from the claim: takes the probe as admit() would, or refuses while another holds it', async () => {
    const clock = fakeClock(1_000_000);
    const store = new MemoryAccountStore();
    const { account } = await open(store, clock);
    const ended = { cooldown_until: String(clock.now() - 1), cooldown_reason: 'transient' };
    const first = await account.admitRead(read(ended));
    expect(first.probe).toBe(true);
    expect(first.token).toEqual(expect.any(String));
    expect(await refusal(account.admitRead(read(ended, { probing: true })))).toMatchObject({
      status: 429,
    });
  });

  it("does not count the claim's read as the store's health", async () => {
    const clock = fakeClock(1_000_000);
    const store = new MemoryAccountStore();
    const { account } = await open(store, clock);
    store.load = () => Promise.reject(new Error('connection lost'));
    await account.sync();
    expect(account.snapshot().sharedStoreOk).toBe(false);
    await account.admitRead(read({ login_state: 'logged_in' }));
    expect(account.snapshot().sharedStoreOk).toBe(false);
  });
});
