/**
 * `docker stop` of a worker container, without Docker: the image's real entrypoint wrapper
 * (docker/entrypoint.sh) as PID 1 of the test, wrapping a stand-in for Kasm's vnc_startup.sh
 * that starts the real docker/custom_startup.sh, which runs headless Chromium (standing in for
 * Kasm's Chrome) and the real worker. SIGTERM arrives in the middle of a streamed request: the
 * request ends with a clear error event, the registry row reads OFFLINE, Chrome closes cleanly
 * (a cookie set a moment before is in the profile's Cookies database when Chromium reopens it),
 * then Kasm stops, and nothing of it is left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { findBinaries } from '../scripts/lib/binaries.ts';
import { signInWithEmulator } from '../scripts/lib/emulator-sign-in.ts';
import { commandLine, processesMentioning } from '../scripts/lib/process-tree.ts';
import { Emulator } from '../src/emulator/index.ts';
import { eventually } from './support/person.ts';
import { freePort, startChromium, tempDir, waitForPort } from './support/services.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const API_KEY = 'gk-user-kasm-stop-test';
const ADMIN_KEY = 'gk-admin-kasm-stop-test';
const dir = tempDir('kasm-stop');
const profile = path.join(dir, 'chrome-profile');
const children: ChildProcess[] = [];
let emulator: Emulator | null = null;

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.pid) {
      process.kill(-child.pid, 'SIGKILL');
    }
  }
  for (const p of await processesMentioning(dir)) {
    process.kill(p.pid, 'SIGKILL');
  }
  await emulator?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Kasm's vnc_startup.sh, reduced to what matters here: custom_startup.sh in the background. */
const KASM_STAND_IN = `#!/bin/bash
bash "$GK_CUSTOM_STARTUP" &
on_term() {
  printf 'kasm got SIGTERM; chromium on the profile: %s\\n' "$(pgrep -c -f -- "--user-data-dir=$CHROME_PROFILE_DIR")" >>"$GK_TEST_LOG"
  exit 0
}
trap on_term TERM
while :; do sleep 1 & wait $!; done
`;

/** Kasm's google-chrome is a wrapper that adds flags; ours adds the emulator's host rules. */
const CHROME_WRAPPER = `#!/bin/sh
exec "$GK_CHROMIUM" --host-resolver-rules="$GK_HOST_RULES" "$@"
`;

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o755 });
  return file;
}

async function registryStatus(workerId: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string }>(
      'select status from gemini_service_nodes where worker_id = $1',
      [workerId],
    );
    return rows[0]?.status;
  } finally {
    await client.end();
  }
}

/** Reads a streamed answer as text until the server ends it. */
async function readStream(res: Response): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body ?? []) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
  }
  return text;
}

it('SIGTERM mid-stream: a clear error, OFFLINE, Chrome closed with its cookies on disk, then Kasm', async () => {
  // The e2e run's CA, which NODE_EXTRA_CA_CERTS names for every process it starts.
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']! });
  const email = `kasm-stop-${Date.now()}@example.com`;
  const workerId = `kasm-stop-${process.pid}`;
  const [cdpPort, apiPort] = [await freePort(), await freePort()];
  const log = path.join(dir, 'events.log');
  const env = {
    ...process.env,
    GK_TEST_LOG: log,
    GK_CUSTOM_STARTUP: path.join(ROOT, 'docker/custom_startup.sh'),
    GK_RUN_DIR: path.join(dir, 'run'),
    GK_CHROMIUM: findBinaries({}, ['chromium']).chromium,
    GK_HOST_RULES: emulator.hostResolverRules(),
    CHROME_BIN: write('google-chrome', CHROME_WRAPPER),
    CHROME_PGREP: 'chromium',
    CHROME_PROFILE_DIR: profile,
    CHROME_CDP_PORT: String(cdpPort),
    APP_ARGS:
      '--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking --disable-component-update --disable-sync --ignore-certificate-errors --password-store=basic',
    LAUNCH_URL: 'about:blank',
    KASM_READY_HOOKS: '',
    APP_DIR: ROOT,
    WORKER_CMD: `${process.execPath} --import tsx src/main.ts worker`,
    PORT: String(apiPort),
    EXTERNAL_IP: '127.0.0.1',
    GEMINI_WORKER_ID: workerId,
    GEMINI_ACCOUNT: email.replace(/[^\w.-]/g, '_'),
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: inject('pgUrl'),
    REDIS_URL: inject('redisUrl'),
    CHROME_CDP_URL: `http://127.0.0.1:${cdpPort}`,
    HOST_RESOLVER_RULES: emulator.hostResolverRules(),
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    HEARTBEAT_INTERVAL_MS: '500',
    API_KEYS: API_KEY,
    ADMIN_API_KEYS: ADMIN_KEY,
  };
  const kasm = write('vnc_startup.sh', KASM_STAND_IN);
  const entrypoint = spawn('bash', [path.join(ROOT, 'docker/entrypoint.sh'), kasm, '--wait'], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(entrypoint);
  let output = '';
  entrypoint.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  entrypoint.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => entrypoint.on('exit', resolve));

  await waitForPort(cdpPort, 30_000);
  await signInWithEmulator(`http://127.0.0.1:${cdpPort}`, email);
  const worker = `http://127.0.0.1:${apiPort}`;
  await eventually(async () => {
    // The account's login state is shown to an admin key only.
    const res = await fetch(`${worker}/health`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const health = (await res.json()) as { login_state?: string };
    return health.login_state === 'logged_in' && (await registryStatus(workerId)) === 'HEALTHY';
  }, 60_000);

  // A cookie the browser got a moment before the stop: Chromium commits its cookie store to disk
  // every 30 s, so only a clean close puts it there now.
  const marker = `late-${Date.now()}`;
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${cdpPort}`);
  await browser.contexts()[0]?.addCookies([
    {
      name: 'gk_late',
      value: marker,
      url: 'https://flush.example.test/',
      expires: Date.now() / 1000 + 3600,
    },
  ]);
  await browser.close();

  // A slow answer (a frame every 2 s, 6 to 10 frames): longer than the worker's 5 s grace.
  emulator.setOptions({ chunkDelayMs: 2000 });
  const res = await fetch(`${worker}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gemini-2.5-flash',
      stream: true,
      messages: [{ role: 'user', content: 'tell a long story about a lighthouse keeper' }],
    }),
  });
  expect(res.status, res.status === 200 ? '' : await res.text()).toBe(200);
  const body = readStream(res);
  await sleep(2500);
  const stopAt = Date.now();
  process.kill(entrypoint.pid ?? -1, 'SIGTERM');

  const text = await body;
  expect(text).toMatch(/data: \{"error":\{"message":"The worker is shutting down\./);
  expect(await exited).toBe(0);
  expect(Date.now() - stopAt).toBeLessThan(40_000);
  expect(await registryStatus(workerId)).toBe('OFFLINE');

  // In order: the worker stopped before Chrome was closed, and Chrome before Kasm got SIGTERM.
  const order = ['stopping the worker', 'worker stopped', 'closing Chrome', 'chrome stopped'];
  const at = order.map((line) => output.indexOf(line));
  expect(
    at.every((i) => i >= 0),
    output,
  ).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(output).not.toMatch(/did not (stop|close) within/);
  expect(fs.readFileSync(log, 'utf8')).toBe('kasm got SIGTERM; chromium on the profile: 0\n');
  expect((await processesMentioning(dir)).map(commandLine)).toEqual([]);

  // Chromium reopens the profile: the late cookie was written to its Cookies database.
  expect(fs.existsSync(path.join(profile, 'Default', 'Cookies'))).toBe(true);
  const reopened = await startChromium({ userDataDir: profile });
  try {
    const again = await chromium.connectOverCDP(reopened.url);
    const cookies = await again.contexts()[0]?.cookies('https://flush.example.test/');
    await again.close();
    expect(cookies?.find((c) => c.name === 'gk_late')?.value).toBe(marker);
  } finally {
    await reopened.stop();
  }
}, 180_000);
