import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeepAlive, type KeepAliveOptions } from '../../../src/browser/keep-alive.ts';
import { createLogger } from '../../../src/logging.ts';

const logger = createLogger({ silent: true });

function setup(overrides: Partial<KeepAliveOptions> = {}) {
  const calls: string[] = [];
  const state = { loggedIn: true, active: true };
  const ka = new KeepAlive({
    intervalMs: 600_000,
    recheckMs: 3_000,
    random: () => 0,
    logger,
    isActive: () => state.active,
    isLoggedIn: () => state.loggedIn,
    keepAlive: async () => {
      calls.push('keepAlive');
    },
    recheck: async () => {
      calls.push('recheck');
    },
    ...overrides,
  });
  return { ka, calls, state };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('KeepAlive', () => {
  it('reloads at the jittered interval while logged in, and reschedules', async () => {
    const { ka, calls } = setup();
    ka.schedule();
    // random 0 -> the low end of ±20%: 480 s.
    expect(ka.nextAt).toBe(1_000_000 + 480_000);
    await vi.advanceTimersByTimeAsync(479_999);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual(['keepAlive']);
    expect(ka.lastAt).toBe(1_000_000 + 480_000);
    expect(ka.scheduled).toBe(true);
    await vi.advanceTimersByTimeAsync(480_000);
    expect(calls).toEqual(['keepAlive', 'keepAlive']);
    ka.stop();
  });

  it('re-checks every few seconds while not logged in', async () => {
    const { ka, calls, state } = setup();
    state.loggedIn = false;
    ka.schedule();
    expect(ka.nextAt).toBe(0);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(calls).toEqual(['recheck', 'recheck', 'recheck']);
    ka.stop();
  });

  it('switches cadence when the state changes', async () => {
    const { ka, calls, state } = setup();
    state.loggedIn = false;
    ka.schedule();
    await vi.advanceTimersByTimeAsync(3_000);
    // The session re-arms the timer on every change to or from logged_in.
    state.loggedIn = true;
    ka.schedule();
    await vi.advanceTimersByTimeAsync(3_000);
    // The tick after the state change is a keep-alive, 480 s later.
    expect(calls).toEqual(['recheck']);
    await vi.advanceTimersByTimeAsync(480_000);
    expect(calls).toEqual(['recheck', 'keepAlive']);
    ka.stop();
  });

  it('keeps going after a failing tick', async () => {
    let n = 0;
    const { ka } = setup({
      keepAlive: async () => {
        n += 1;
        throw new Error('Chrome hiccup');
      },
    });
    ka.schedule();
    await vi.advanceTimersByTimeAsync(960_000);
    expect(n).toBe(2);
    ka.stop();
  });

  it('stops when inactive, and stop() is idempotent', async () => {
    const { ka, calls, state } = setup();
    ka.schedule();
    state.active = false;
    await vi.advanceTimersByTimeAsync(480_000);
    expect(calls).toEqual(['keepAlive']);
    expect(ka.scheduled).toBe(false);
    ka.schedule();
    expect(ka.scheduled).toBe(false);
    ka.stop();
    ka.stop();
  });
});
