/**
 * docker/entrypoint.sh (PID 1 of the worker image) with stand-ins: it passes Kasm's exit status
 * through, stops custom_startup.sh (by its pid file) before Kasm on SIGTERM, kills a Kasm that
 * ignores SIGTERM after KASM_STOP_TIMEOUT_S, and refuses to run without a command. The whole
 * stop with the real custom_startup.sh, Chromium and worker is e2e/kasm-stop.test.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './compose-file.ts';

const ENTRYPOINT = path.join(REPO_ROOT, 'docker/entrypoint.sh');
const dirs: string[] = [];

afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function sandbox(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-entry-'));
  dirs.push(dir);
  return dir;
}

/** Runs the entrypoint around `kasm` (a shell script body); resolves with its exit and output. */
function run(dir: string, kasm: string, env: Record<string, string> = {}) {
  fs.writeFileSync(path.join(dir, 'kasm.sh'), `#!/bin/bash\n${kasm}\n`, { mode: 0o755 });
  const child = spawn('bash', [ENTRYPOINT, path.join(dir, 'kasm.sh'), '--wait'], {
    env: { ...process.env, GK_RUN_DIR: dir, LOG: path.join(dir, 'events.log'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, output: () => output };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i += 1) {
    await sleep(50);
  }
  expect(check()).toBe(true);
}

describe('docker/entrypoint.sh', { timeout: 20_000 }, () => {
  it('exits with the status of Kasm when Kasm ends by itself', async () => {
    const { exited, output } = run(sandbox(), 'echo "args: $*"; exit 7');
    expect(await exited).toBe(7);
    expect(output()).toContain('args: --wait');
    expect(output()).toContain('Kasm exited with status 7');
  });

  it('on SIGTERM stops custom_startup.sh first, waits for it, then Kasm; exits 0', async () => {
    const dir = sandbox();
    // custom_startup.sh's stand-in takes a moment to stop (its worker and Chrome), then says so.
    const kasm = `
(trap 'sleep 0.5; echo startup-stopped >> "$LOG"; exit 0' TERM; echo $BASHPID > "$GK_RUN_DIR/custom_startup.pid"; while :; do sleep 0.1; done) &
trap 'echo kasm-stopped >> "$LOG"; exit 0' TERM
while :; do sleep 0.1; done`;
    const { child, exited, output } = run(dir, kasm);
    await until(() => fs.existsSync(path.join(dir, 'custom_startup.pid')));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'events.log'), 'utf8')).toBe(
      'startup-stopped\nkasm-stopped\n',
    );
    expect(output()).toMatch(/SIGTERM: stopping in order[\s\S]*custom_startup.sh stopped/);
  });

  it('kills a Kasm that ignores SIGTERM once KASM_STOP_TIMEOUT_S has passed', async () => {
    const { child, exited, output } = run(sandbox(), "trap '' TERM; while :; do sleep 0.1; done", {
      KASM_STOP_TIMEOUT_S: '1',
    });
    await sleep(300);
    const stopAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(5000);
    expect(output()).toContain('custom_startup.sh is not running');
    expect(output()).toContain('Kasm did not stop within 1 s; killing it');
  });

  it('refuses to start without a command', () => {
    const bare = spawnSync('bash', [ENTRYPOINT], { encoding: 'utf8' });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('usage: gk-entrypoint');
  });
});
