/**
 * docker/custom_startup.sh with stub programs on PATH: a "chrome" that leaves a crashed profile
 * behind (Singleton* files, exit_type Crashed) and exits, and a "node" worker that exits at once.
 * The supervisor must relaunch both, clean the profile before each launch, put our CDP flags
 * last, never exit on its own, and take its whole process tree down on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './compose-file.ts';

const STARTUP = path.join(REPO_ROOT, 'docker/custom_startup.sh');

// Records what it saw at start (stale locks, Preferences), then "crashes" the way Chrome does.
// With STUB_CHROME_DAEMON it instead hands off to a long-lived copy of itself and returns, as a
// launcher does when Chrome keeps running on its own.
const FAKE_CHROME = `#!/bin/sh
if [ -n "$STUB_IS_DAEMON" ]; then
  while :; do sleep 0.2; done
fi
dir=''
for a in "$@"; do case "$a" in --user-data-dir=*) dir="\${a#--user-data-dir=}" ;; esac; done
seen=$(ls -A "$dir" | grep '^Singleton' | tr '\\n' ' ')
prefs=$(cat "$dir/Default/Preferences" 2>/dev/null)
printf 'launch|%s|%s|%s\\n' "$seen" "$prefs" "$*" >>"$LOG_DIR/chrome.log"
if [ -n "$STUB_CHROME_DAEMON" ]; then
  STUB_IS_DAEMON=1 "$0" "$@" &
  exit 0
fi
mkdir -p "$dir/Default"
ln -sf "old-hostname-$$" "$dir/SingletonLock"
ln -sf /tmp/gone/SingletonSocket "$dir/SingletonSocket"
: >"$dir/SingletonCookie"
printf '{"profile":{"exit_type":"Crashed","exited_cleanly":false}}' >"$dir/Default/Preferences"
sleep 0.2
exit 21
`;

const FAKE_NODE = `#!/bin/sh
printf 'worker|%s|%s\\n' "$PWD" "$*" >>"$LOG_DIR/npm.log"
exit 1
`;

const READY_HOOK = `#!/bin/sh
printf 'ready\\n' >>"$LOG_DIR/chrome.log"
`;

interface Sandbox {
  readonly dir: string;
  readonly profile: string;
  readonly appDir: string;
  readonly chromeName: string;
}

const sandboxes: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // Already gone: the test stopped it.
    }
  }
  sandboxes.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function makeSandbox(): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-startup-'));
  sandboxes.push(dir);
  // pgrep -x matches the 15-character process name; a unique one keeps other runs out.
  const chromeName = `gkc${randomBytes(4).toString('hex')}`;
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const write = (name: string, text: string): void =>
    fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  write(chromeName, FAKE_CHROME);
  write('node', FAKE_NODE);
  write('ready-hook', READY_HOOK);
  const profile = path.join(dir, 'home/chrome-profile');
  fs.mkdirSync(profile, { recursive: true });
  const appDir = path.join(dir, 'app');
  fs.mkdirSync(appDir);
  return { dir, profile, appDir, chromeName };
}

function start(box: Sandbox, env: Record<string, string>): ChildProcess {
  const child = spawn('bash', [STARTUP], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: `${path.join(box.dir, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      HOME: path.join(box.dir, 'home'),
      LOG_DIR: box.dir,
      CHROME_BIN: box.chromeName,
      CHROME_PGREP: box.chromeName,
      KASM_READY_HOOKS: `${path.join(box.dir, 'bin/ready-hook')} /nonexistent/desktop_ready`,
      APP_DIR: box.appDir,
      WORKER_BACKOFF_MIN_MS: '50',
      WORKER_BACKOFF_MAX_MS: '200',
      GK_RUN_DIR: box.dir,
      // No CDP close in these tests (nothing listens; never reach a real Chrome on 9222).
      NODE_BIN: '/bin/false',
      ...env,
    },
  });
  children.push(child);
  return child;
}

function lines(file: string, prefix: string): string[][] {
  if (!fs.existsSync(file)) {
    return [];
  }
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}|`))
    .map((l) => l.split('|').slice(1));
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(50);
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A crash from a previous container: a stale lock naming another host, a Crashed exit_type. */
function seedCrashedProfile(profile: string): void {
  fs.symlinkSync('previous-host-42', path.join(profile, 'SingletonLock'));
  fs.mkdirSync(path.join(profile, 'Default'));
  fs.writeFileSync(
    path.join(profile, 'Default/Preferences'),
    '{"profile":{"exit_type":"Crashed","exited_cleanly":false}}',
  );
}

/** Every launch saw a clean profile, and our flags came last, after APP_ARGS. */
function expectCleanLaunches(box: Sandbox, chromeLog: string): void {
  for (const [seen, prefs, args] of lines(chromeLog, 'launch')) {
    expect(seen, 'Singleton files present at launch').toBe('');
    expect(prefs).toBe('{"profile":{"exit_type":"Normal","exited_cleanly":true}}');
    const argv = (args ?? '').split(' ');
    expect(argv.slice(-3)).toEqual([
      `--user-data-dir=${box.profile}`,
      '--remote-debugging-port=9222',
      'https://gemini.google.com/app',
    ]);
    expect(argv.slice(0, 2)).toEqual(['--no-sandbox', '--remote-debugging-port=1']);
    expect(args).not.toMatch(/remote-allow-origins|remote-debugging-address/);
  }
}

// Real processes on a shared 2-core machine: allow more than the default 10 s.
describe('custom_startup.sh', { timeout: 30_000 }, () => {
  it('relaunches Chrome on a cleaned profile and restarts the worker, and never exits', async () => {
    const box = makeSandbox();
    seedCrashedProfile(box.profile);
    // Same process name, another profile: a Chrome the person opened must not count as ours.
    const decoy = spawn(path.join(box.dir, 'bin', box.chromeName), ['--user-data-dir=/elsewhere'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, STUB_IS_DAEMON: '1' },
    });
    children.push(decoy);
    let output = '';
    const child = start(box, { APP_ARGS: '--no-sandbox --remote-debugging-port=1' });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));

    const chromeLog = path.join(box.dir, 'chrome.log');
    const npmLog = path.join(box.dir, 'npm.log');
    await until('three Chrome launches', () => lines(chromeLog, 'launch').length >= 3);
    await until('three worker starts', () => lines(npmLog, 'worker').length >= 3);
    expect(exited).toBe(false);
    expectCleanLaunches(box, chromeLog);
    // The ready hooks run before every launch; a missing hook is skipped.
    const events = fs
      .readFileSync(chromeLog, 'utf8')
      .split('\n')
      .map((l) => l.split('|')[0]);
    expect(events.slice(0, 4)).toEqual(['ready', 'launch', 'ready', 'launch']);
    for (const [cwd, args] of lines(npmLog, 'worker')) {
      expect([cwd, args]).toEqual([box.appDir, 'dist/main.js worker']);
    }
    expect(output).toMatch(/removing stale SingletonCookie SingletonLock SingletonSocket from/);
    expect(output).toMatch(/worker exited with status 1 .* restarting in \d+ ms/);
    expect(output).toMatch(/chrome exited with status 21/);
  });

  it('leaves a running Chrome alone, honours WORKER_CMD and LAUNCH_URL, and stops it all on SIGTERM', async () => {
    const box = makeSandbox();
    // A worker that stays up, so SIGTERM has a live grandchild to take down.
    const worker = path.join(box.dir, 'bin/long-worker');
    fs.writeFileSync(worker, `#!/bin/sh\necho "up|$*" >>"$LOG_DIR/npm.log"\nexec sleep 300\n`, {
      mode: 0o755,
    });
    const child = start(box, {
      WORKER_CMD: `${worker} --flag`,
      LAUNCH_URL: 'https://example.test/start',
      STUB_CHROME_DAEMON: '1',
    });
    const exitCode = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    const chromeLog = path.join(box.dir, 'chrome.log');
    await until('a Chrome launch', () => lines(chromeLog, 'launch').length >= 1);
    expect(fs.readFileSync(path.join(box.dir, 'custom_startup.pid'), 'utf8').trim()).toBe(
      String(child.pid),
    );
    await until('the worker', () => lines(path.join(box.dir, 'npm.log'), 'up').length === 1);
    const [, , args] = lines(chromeLog, 'launch')[0] ?? [];
    expect(args).toBe(
      `--start-maximized --user-data-dir=${box.profile} --remote-debugging-port=9222 https://example.test/start`,
    );

    // Several relaunch checks (1 s apart) pass while the handed-off Chrome runs: no second launch.
    await sleep(2500);
    expect(lines(chromeLog, 'launch')).toHaveLength(1);

    child.kill('SIGTERM');
    expect(await exitCode).toBe(0);
    const pgid = child.pid ?? 0;
    await until('every process of the group to end', () => !groupAlive(pgid), 5000);
    // The worker first, then Chrome (CDP unreachable here: SIGTERM to the browser process).
    const steps = [
      'stopping the worker',
      'worker stopped',
      'closing Chrome',
      'CDP close failed; sending SIGTERM',
      'chrome stopped',
    ].map((step) => output.indexOf(step));
    expect(
      steps.every((i) => i >= 0),
      output,
    ).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(fs.existsSync(path.join(box.dir, 'custom_startup.pid'))).toBe(false);
    expect(lines(path.join(box.dir, 'npm.log'), 'up')).toEqual([['--flag']]);
  });
});
