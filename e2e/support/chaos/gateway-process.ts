/**
 * The gateway as a child process (`node --import tsx src/main.ts gateway`), as production runs
 * it, with its output kept for the failure report.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../services.ts';
import { CHAOS_KEY_ENV } from './keys.ts';

/** A running gateway process. */
export interface GatewayProcess {
  readonly url: string;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Starts the gateway with `env` on top of this process's; resolves once /health answers. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'gateway'], {
    cwd: ROOT,
    env: { ...process.env, ...CHAOS_KEY_ENV, DEBUG: '', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | null = null;
  const gateway: GatewayProcess = {
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: (graceMs = 10_000) => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const done = await Promise.race([exited.then(() => true), sleep(graceMs, false)]);
          if (!done) {
            child.kill('SIGKILL');
          }
        }
        await exited;
      })();
      return stopping;
    },
  };
  await waitForHealth(gateway, () => child.exitCode !== null, 30_000);
  return gateway;
}

async function waitForHealth(
  gateway: GatewayProcess,
  exited: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${gateway.url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      return;
    }
    if (exited() || Date.now() > deadline) {
      await gateway.stop(0);
      throw new Error(`the gateway did not start:\n${gateway.output()}`);
    }
    await sleep(200);
  }
}
