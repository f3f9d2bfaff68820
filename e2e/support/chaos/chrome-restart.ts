/**
 * Killing a Chromium as a crash would and starting it again on the same profile, as Kasm's loop
 * does. Chromium commits its cookie store to disk only every ~30 s, so the profile keeps a
 * sign-in only once that has happened: `cookiesPersistedAt` says when.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChromiumHandle } from '../services.ts';

/** Chromium's cookie commit interval plus a margin. */
export const COOKIE_COMMIT_MS = 32_000;

/** When a sign-in that landed at `signedInAtMs` is surely on disk. */
export function cookiesPersistedAt(signedInAtMs: number): number {
  return signedInAtMs + COOKIE_COMMIT_MS;
}

/** When the Chromium was killed and when its successor was up. */
export interface ChromeRestart {
  readonly killedAtMs: number;
  readonly restartedAtMs: number;
}

/** SIGKILLs the Chromium, waits until none of its processes is left, and starts it again. */
export async function restartChromium(chrome: ChromiumHandle): Promise<ChromeRestart> {
  await chrome.kill();
  const killedAtMs = Date.now();
  await waitForProfileFree(chrome.userDataDir, 15_000);
  await chrome.start();
  return { killedAtMs, restartedAtMs: Date.now() };
}

/** Waits until no process mentions the profile (the network service outlives the browser). */
async function waitForProfileFree(userDataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processesUsing(userDataDir) > 0) {
    if (Date.now() > deadline) {
      throw new Error(`Chromium processes on ${userDataDir} outlived the kill`);
    }
    await sleep(50);
  }
}

function processesUsing(userDataDir: string): number {
  let count = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) {
      continue;
    }
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(userDataDir)) {
        count += 1;
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return count;
}
