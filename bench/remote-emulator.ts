/**
 * The emulator in a process of its own (`node dist/main.js emulator`), driven through its control
 * API. The benchmarks use it so that the direct client and the worker both reach it across a
 * process boundary, and neither shares an event loop with it.
 */
import { spawn } from 'node:child_process';
import { MAPPED_HOSTS, type FrameLogEntry, type TunableOptions } from '../src/emulator/index.ts';
import type { Cookie } from '../src/gemini/index.ts';
import { freePort, waitForPort } from '../e2e/support/services.ts';

/** What the benchmarks need of an emulator. */
export interface BenchEmulator {
  hostResolverRules(): string;
  createAccount(email: string): Promise<{ email: string; cookies: Cookie[] }>;
  setOptions(patch: Partial<TunableOptions>): Promise<void>;
  /** When each StreamGenerate frame of the last few hundred answers was written. */
  frames(): Promise<FrameLogEntry[]>;
  clearFrames(): Promise<void>;
  /** The emulator's frame clock, read now. */
  clockMs(): Promise<number>;
  close(): Promise<void>;
}

export async function startRemoteEmulator(certDir: string): Promise<BenchEmulator> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/main.js', 'emulator'], {
    env: { ...process.env, EMULATOR_PORT: String(port), EMULATOR_CERT_DIR: certDir },
    stdio: 'ignore',
  });
  await waitForPort(port);
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`https://127.0.0.1:${port}/__emulator/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) {
      throw new Error(`emulator control ${method} ${path}: ${res.status}`);
    }
    return res.json();
  };
  return {
    hostResolverRules: () => MAPPED_HOSTS.map((h) => `MAP ${h} 127.0.0.1:${port}`).join(', '),
    createAccount: async (email) =>
      (await control('POST', 'accounts', { email })) as { email: string; cookies: Cookie[] },
    setOptions: async (patch) => void (await control('PATCH', 'options', patch)),
    frames: async () => (await control('GET', 'frames')) as FrameLogEntry[],
    clearFrames: async () => void (await control('DELETE', 'frames')),
    clockMs: async () => ((await control('GET', 'clock')) as { nowMs: number }).nowMs,
    close: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
