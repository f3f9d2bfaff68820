import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
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
