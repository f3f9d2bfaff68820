import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCall } from '../../../src/gemini/call.ts';
import { createWatchdog } from '../../../src/gemini/watchdog.ts';

const TIMEOUT_MS = 40;

function counted() {
  let fires = 0;
  const dog = createWatchdog(TIMEOUT_MS, () => (fires += 1));
  return { dog, fires: () => fires };
}

describe('createWatchdog', () => {
  it('fires once when armed and left alone', async () => {
    const { dog, fires } = counted();
    dog.arm();
    await sleep(TIMEOUT_MS * 3);
    expect(fires()).toBe(1);
    expect(dog.fired).toBe(true);
  });

  it('never fires while disarmed', async () => {
    const { dog, fires } = counted();
    dog.arm();
    dog.disarm();
    await sleep(TIMEOUT_MS * 3);
    expect(fires()).toBe(0);
    expect(dog.fired).toBe(false);
  });

  it('restarts the countdown on each arm', async () => {
    const { dog, fires } = counted();
    dog.arm();
    for (let i = 0; i < 4; i += 1) {
      await sleep(TIMEOUT_MS / 2);
      dog.disarm();
      dog.arm();
    }
    expect(fires()).toBe(0);
    await sleep(TIMEOUT_MS * 3);
    expect(fires()).toBe(1);
  });

  it('still fires when re-armed after its time passed while disarmed', async () => {
    const { dog, fires } = counted();
    dog.arm();
    dog.disarm();
    await sleep(TIMEOUT_MS * 2);
    dog.arm();
    await sleep(TIMEOUT_MS * 3);
    expect(fires()).toBe(1);
  });
});

describe('the end of a call', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a disarmed watchdog keeps its timer until stop() clears it', () => {
    vi.useFakeTimers();
    const { dog, fires } = counted();
    dog.arm();
    dog.disarm();
    // Unref'd, it still holds onFire (and all it reaches) for the whole timeout.
    expect(vi.getTimerCount()).toBe(1);
    dog.stop();
    expect(vi.getTimerCount()).toBe(0);
    dog.arm();
    vi.advanceTimersByTime(TIMEOUT_MS * 2);
    expect(fires()).toBe(1);
  });

  it('leaves no timer behind, finished or cancelled', () => {
    vi.useFakeTimers();
    const lifetime = new AbortController();
    for (const abort of [false, true]) {
      const caller = new AbortController();
      const call = startCall(caller.signal, lifetime.signal, 120_000);
      call.dog.arm();
      call.dog.disarm();
      call.end(abort);
      expect(vi.getTimerCount()).toBe(0);
      expect(call.signal.aborted).toBe(abort);
    }
  });
});
