/**
 * AccountState with the in-memory store (a shared instance stands for Redis between "processes"),
 * account_state.json in a temporary DATA_DIR, and a hand-moved clock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_STATE_FILE,
  AccountState,
  MemoryAccountStore,
  readStateFile,
  writeStateFile,
  type AccountSnapshot,
  type AccountStore,
} from '../../../src/account/index.ts';
import { fakeClock, trackAccounts } from './fakes.ts';

const ACCOUNT = 'acc@example.com';
const COOLDOWN = { quotaMs: 3_600_000, jitterMs: 300_000, transientMs: 60_000 };

const { track, newDir } = trackAccounts();

async function open(
  dataDir: string,
  clock: { now: () => number },
  store: AccountStore = new MemoryAccountStore(),
  random = () => 0,
): Promise<AccountState> {
  return track(
    await AccountState.open({
      account: ACCOUNT,
      dataDir,
      cooldown: COOLDOWN,
      store,
      syncIntervalMs: 0,
      now: clock.now,
      random,
    }),
  );
}

function readFile(dataDir: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(dataDir, ACCOUNT_STATE_FILE), 'utf8'));
}

describe('AccountState: cooldown persistence', () => {
  it('writes the cooldown to account_state.json and a restart with an empty store keeps it', async () => {
    const clock = fakeClock();
    const dir = newDir();
    const first = await open(dir, clock);
    const retryAfterS = await first.coolDown('quota');
    expect(retryAfterS).toBe(3600);
    expect(readFile(dir)).toMatchObject({
      version: 1,
      account: ACCOUNT,
      cooldown: { until: clock.now() + 3_600_000, reason: 'quota' },
    });
    await first.close();

    // A new process and a flushed Redis: only the file remembers.
    const flushed = new MemoryAccountStore();
    const second = await open(dir, clock, flushed);
    expect(second.snapshot()).toMatchObject({ phase: 'cooling', cooldown: { reason: 'quota' } });
    await expect(second.admit()).rejects.toMatchObject({ status: 429, retryAfterS: 3600 });
    // ... and it wrote the cooldown back to the store.
    expect((await flushed.load())?.cooldown).toEqual({
      until: clock.now() + 3_600_000,
      reason: 'quota',
    });
  });

  it('takes the later end when the file and the store disagree', async () => {
    const clock = fakeClock();
    const dir = newDir();
    const store = new MemoryAccountStore();
    await writeStateFile(dir, ACCOUNT, { until: clock.now() + 1000, reason: 'transient' }, 0);
    await store.extendCooldown({ until: clock.now() + 5000, reason: 'quota' }, clock.now());
    const a = await open(dir, clock, store);
    expect(a.snapshot().cooldown).toEqual({ until: clock.now() + 5000, reason: 'quota' });
    expect(await readStateFile(dir, ACCOUNT)).toEqual({
      until: clock.now() + 5000,
      reason: 'quota',
    });

    const dir2 = newDir();
    const store2 = new MemoryAccountStore();
    await writeStateFile(dir2, ACCOUNT, { until: clock.now() + 9000, reason: 'ip_blocked' }, 0);
    await store2.extendCooldown({ until: clock.now() + 5000, reason: 'quota' }, clock.now());
    const b = await open(dir2, clock, store2);
    expect(b.snapshot().cooldown).toEqual({ until: clock.now() + 9000, reason: 'ip_blocked' });
    expect((await store2.load())?.cooldown?.until).toBe(clock.now() + 9000);
  });

  it('ignores a corrupt file and a file of another account', async () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, ACCOUNT_STATE_FILE), '{not json');
    expect(await readStateFile(dir, ACCOUNT)).toBeNull();
    await writeStateFile(dir, 'other@example.com', { until: 5, reason: 'quota' }, 0);
    expect(await readStateFile(dir, ACCOUNT)).toBeNull();
    expect(fs.readdirSync(dir)).toEqual([ACCOUNT_STATE_FILE]);
  });

  it('adds jitter within [0, jitterMs) to a long rest, and caps it at half a short one', async () => {
    const clock = fakeClock();
    const high = await open(newDir(), clock, new MemoryAccountStore(), () => 0.999);
    await high.coolDown('quota');
    const until = high.snapshot().cooldown?.until ?? 0;
    expect(until - clock.now()).toBeGreaterThan(3_600_000 + 299_000);
    expect(until - clock.now()).toBeLessThan(3_600_000 + 300_000);

    const short = await open(newDir(), clock, new MemoryAccountStore(), () => 0.999);
    await short.coolDown('transient');
    expect((short.snapshot().cooldown?.until ?? 0) - clock.now()).toBeLessThan(60_000 + 30_000);
  });

  it('never shortens a running cooldown', async () => {
    const clock = fakeClock();
    const a = await open(newDir(), clock);
    await a.coolDown('quota');
    await a.coolDown('transient');
    expect(a.snapshot().cooldown).toMatchObject({ reason: 'quota' });
  });
});

describe('AccountState: admission', () => {
  it('429 with Retry-After to the end while cooling; half-open at the end', async () => {
    const clock = fakeClock();
    const a = await open(newDir(), clock);
    await a.coolDown('ip_blocked');
    clock.advance(3_600_000 - 1500);
    await expect(a.admit()).rejects.toMatchObject({ status: 429, retryAfterS: 2 });
    await expect(a.check()).rejects.toMatchObject({ status: 429 });
    clock.advance(1500);
    expect(a.snapshot().phase).toBe('half_open');
    await expect(a.check()).resolves.toBeUndefined();
    const admission = await a.admit();
    expect(admission.probe).toBe(true);
  });

  it('shares one probe between two processes on one store, and a success clears it for both', async () => {
    const clock = fakeClock();
    const shared = new MemoryAccountStore();
    const p1 = await open(newDir(), clock, shared);
    const p2 = await open(newDir(), clock, shared);
    await p1.coolDown('quota');
    clock.advance(3_600_001);
    const probe = await p1.admit();
    expect(probe.probe).toBe(true);
    await expect(p2.admit()).rejects.toMatchObject({ status: 429, code: 'account_probing' });
    await expect(p2.check()).rejects.toMatchObject({ status: 429, code: 'account_probing' });
    expect(p2.snapshot().probing).toBe(true);

    await p1.recordSuccess(probe);
    await expect(p2.admit()).resolves.toEqual({ probe: false, token: null });
    expect(p2.snapshot()).toMatchObject({ phase: 'ready', cooldown: null, probing: false });
  });

  it('a crashed probe frees its lock after probeTtlMs', async () => {
    const clock = fakeClock();
    const shared = new MemoryAccountStore();
    const p1 = await open(newDir(), clock, shared);
    const p2 = await open(newDir(), clock, shared);
    await p1.coolDown('quota');
    clock.advance(3_600_001);
    await p1.admit();
    await expect(p2.admit()).rejects.toMatchObject({ code: 'account_probing' });
    clock.advance(330_001);
    await expect(p2.admit()).resolves.toMatchObject({ probe: true });
  });

  it('check() answers from memory while servable, and re-reads the store when it was not', async () => {
    const clock = fakeClock();
    const shared = new MemoryAccountStore();
    let loads = 0;
    const counted = Object.assign(Object.create(shared) as MemoryAccountStore, {
      load: () => ((loads += 1), shared.load()),
    });
    const p1 = await open(newDir(), clock, counted);
    const p2 = await open(newDir(), clock, shared);
    loads = 0;
    await p1.check();
    expect(loads).toBe(0);
    // Another process cools the account: p1 still queues (its admit() re-reads and refuses).
    await p2.coolDown('quota');
    await expect(p1.check()).resolves.toBeUndefined();
    await expect(p1.admit()).rejects.toMatchObject({ status: 429 });
    // Seen cooling, p1 re-reads on every check, so a reset elsewhere frees it at once.
    await p2.reset();
    await expect(p1.check()).resolves.toBeUndefined();
    expect(loads).toBe(2);
  });

  it('503 naming VNC while signed out; a login clears it', async () => {
    const clock = fakeClock();
    const a = await open(newDir(), clock);
    expect(await a.markLoginRequired()).toBe(30);
    await expect(a.admit()).rejects.toMatchObject({ status: 503, retryAfterS: 30 });
    await expect(a.check()).rejects.toThrow(/VNC/);
    await a.setLoginState('logged_in');
    await expect(a.admit()).resolves.toMatchObject({ probe: false });
  });
});

describe('AccountState: reset, snapshot and change events', () => {
  it('reset() ends a cooldown and a signed-out verdict, in the store and the file', async () => {
    const clock = fakeClock();
    const dir = newDir();
    const store = new MemoryAccountStore();
    const a = await open(dir, clock, store);
    await a.coolDown('quota');
    await a.markLoginRequired();
    const snap = await a.reset();
    expect(snap).toMatchObject({ phase: 'ready', cooldown: null, loginState: 'unknown' });
    expect((await store.load())?.cooldown).toBeNull();
    expect(readFile(dir)).toMatchObject({ cooldown: null });
    await expect(a.admit()).resolves.toMatchObject({ probe: false });
  });

  it('emits a change for cooldown start, phase change with time, and clear', async () => {
    const clock = fakeClock();
    const a = await open(newDir(), clock);
    const seen: AccountSnapshot[] = [];
    const off = a.onChange((s) => seen.push(s));
    await a.coolDown('quota');
    clock.advance(3_600_001);
    await a.sync();
    const probe = await a.admit();
    await a.recordSuccess(probe);
    off();
    await a.coolDown('manual');
    expect(seen.map((s) => [s.phase, s.probing])).toEqual([
      ['cooling', false],
      ['half_open', false],
      ['half_open', true],
      ['ready', false],
    ]);
  });

  it('keeps serving on local state when the shared store fails, and says so', async () => {
    const clock = fakeClock();
    const dir = newDir();
    const broken = new MemoryAccountStore();
    const a = await open(dir, clock, broken);
    const fail = async () => {
      throw new Error('connection refused');
    };
    Object.assign(broken, { load: fail, extendCooldown: fail, recordSuccess: fail });
    await a.sync();
    expect(a.snapshot().sharedStoreOk).toBe(false);
    await expect(a.admit()).resolves.toMatchObject({ probe: false });
    await a.coolDown('quota');
    await expect(a.admit()).rejects.toMatchObject({ status: 429 });
    expect(readFile(dir)).toMatchObject({ cooldown: { reason: 'quota' } });
  });
  it('503s, never guesses, when Redis fails while taking the probe or resetting', async () => {
    const clock = fakeClock();
    const dir = newDir();
    const broken = new MemoryAccountStore();
    const a = await open(dir, clock, broken);
    await a.coolDown('quota');
    clock.advance(3_600_001);
    const fail = async () => {
      throw new Error('connection refused');
    };
    Object.assign(broken, { acquireProbe: fail, clearCooldown: fail });
    // Half-open, but the probe lock cannot be taken: nobody goes up as an unlocked probe.
    await expect(a.admit()).rejects.toMatchObject({
      status: 503,
      message: 'The account state store (Redis) is unavailable.',
    });
    await expect(a.reset()).rejects.toMatchObject({
      status: 503,
      message: 'Could not reset: Redis is unavailable.',
    });
    // A reset that failed changed nothing here either.
    expect(a.snapshot().cooldown).toMatchObject({ reason: 'quota' });
    expect(readFile(dir)).toMatchObject({ cooldown: { reason: 'quota' } });
  });
});
