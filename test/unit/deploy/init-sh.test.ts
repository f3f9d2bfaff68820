/**
 * init.sh in temporary directories against sample compose files with 1, 2 and 5 workers: the
 * directories, cookie_cache.json as a 0600 file, idempotence, .env, ownership, and loud failures.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './compose-file.ts';

const INIT = path.join(REPO_ROOT, 'init.sh');
const isRoot = process.getuid?.() === 0;
const tempDirs: string[] = [];

afterEach(() => {
  tempDirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-init-'));
  tempDirs.push(dir);
  return dir;
}

/** A compose file in the style of the real one: anchors, merge keys, quoted keys, comments. */
function sampleCompose(workers: number): string {
  const blocks = Array.from({ length: workers }, (_, i) => {
    const n = i + 1;
    const key = n % 2 === 0 ? `"worker-${n}"` : `worker-${n}`;
    return [
      `  ${key}:  # account ${n}`,
      '    <<: *worker',
      '    ports:',
      `      - '${6900 + n}:6901'`,
      '    volumes:',
      `      - ./data/worker${n}:/home/kasm-user/data`,
      `      - ./profiles/worker${n}:/home/kasm-user/chrome-profile`,
    ].join('\n');
  });
  return [
    '# sample',
    'x-worker: &worker',
    '  image: gemini-kasm-worker',
    '  environment:',
    '    worker-99: not a service',
    'services:',
    '  postgres:',
    '    image: postgres:17.2-alpine',
    '',
    '  # the workers',
    ...blocks,
    'volumes:',
    '  worker-98: {}',
    '',
  ].join('\n');
}

function runInit(dir: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync('bash', [INIT, '--dir', dir, ...args], { encoding: 'utf8' });
}

/** Every path under dir with its type and mode, for comparing two runs. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const p = path.join(rel, name);
      const st = fs.lstatSync(path.join(dir, p));
      out.push(`${p} ${st.isDirectory() ? 'd' : 'f'} ${(st.mode & 0o777).toString(8)} ${st.uid}`);
      if (st.isDirectory()) {
        walk(p);
      }
    }
  };
  walk('');
  return out;
}

describe('init.sh', () => {
  it.each([1, 2, 5])('prepares the directories of %i worker(s)', (workers) => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(workers));
    const run = runInit(dir);
    expect(run.status, run.stderr).toBe(0);
    for (let n = 1; n <= workers; n += 1) {
      for (const sub of ['conversations', 'images']) {
        expect(fs.statSync(path.join(dir, `data/worker${n}/${sub}`)).isDirectory()).toBe(true);
      }
      const cache = fs.lstatSync(path.join(dir, `data/worker${n}/cookie_cache.json`));
      expect(cache.isFile()).toBe(true);
      expect(cache.mode & 0o777).toBe(0o600);
      const profile = fs.statSync(path.join(dir, `profiles/worker${n}`));
      expect(profile.isDirectory()).toBe(true);
      expect(profile.mode & 0o777).toBe(0o700);
      if (isRoot) {
        expect([cache.uid, profile.uid, profile.gid]).toEqual([1000, 1000, 1000]);
      }
    }
    const expected = Array.from({ length: workers }, (_, i) => `worker${i + 1}`).sort();
    expect(fs.readdirSync(path.join(dir, 'data')).sort()).toEqual(expected);
    expect(fs.readdirSync(path.join(dir, 'profiles')).sort()).toEqual(expected);
    expect(run.stdout).toContain(`ready: ${workers} worker(s)`);
    if (isRoot) {
      expect(run.stdout).toContain('ownership: set to 1000:1000 on');
      expect(runInit(dir).stdout).toContain('ownership: already 1000:1000');
    }
  });

  it('is idempotent and keeps an existing cookie cache and .env', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(2));
    expect(runInit(dir).status).toBe(0);
    const cache = path.join(dir, 'data/worker1/cookie_cache.json');
    expect(fs.readFileSync(cache, 'utf8').trim()).toBe('{}');
    fs.writeFileSync(cache, '{"SECURE_1PSID":"kept"}\n');
    fs.chmodSync(cache, 0o644);
    fs.appendFileSync(path.join(dir, '.env'), 'VNC_PW=kept\n');
    const before = snapshot(dir);
    const second = runInit(dir);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).not.toContain('created');
    expect(fs.readFileSync(cache, 'utf8')).toBe('{"SECURE_1PSID":"kept"}\n');
    expect(fs.readFileSync(path.join(dir, '.env'), 'utf8')).toContain('VNC_PW=kept\n');
    // Only the loosened cache mode differs: the second run tightened it back to 0600.
    expect(snapshot(dir)).toEqual(
      before.map((line) => line.replace(/^(data\/worker1\/cookie_cache\.json f) 644/, '$1 600')),
    );
  });

  it('copies .env.example to .env (mode 600) when .env is missing, and says so', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(1));
    const run = runInit(dir);
    expect(run.stdout).toMatch(/created .*\.env from .*\.env\.example/);
    const env = path.join(dir, '.env');
    expect(fs.readFileSync(env, 'utf8')).toBe(
      fs.readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8'),
    );
    expect(fs.statSync(env).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!isRoot)('under sudo, gives the new .env to the invoking user', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(1));
    const run = spawnSync('bash', [INIT, '--dir', dir], {
      encoding: 'utf8',
      env: { ...process.env, SUDO_UID: '4242', SUDO_GID: '4343' },
    });
    expect(run.status, run.stderr).toBe(0);
    const env = fs.statSync(path.join(dir, '.env'));
    expect([env.uid, env.gid]).toEqual([4242, 4343]);
  });

  it('replaces a cookie_cache.json directory that Docker created, if it is empty', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(2));
    fs.mkdirSync(path.join(dir, 'data/worker1/cookie_cache.json'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'data/worker2/cookie_cache.json/x'), { recursive: true });
    const run = runInit(dir);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/worker2\/cookie_cache\.json is a non-empty directory/);
    expect(fs.lstatSync(path.join(dir, 'data/worker1/cookie_cache.json')).isFile()).toBe(true);
  });

  it('fails loudly when the compose file has no worker services', () => {
    const dir = tempDir();
    const file = path.join(dir, 'other.yml');
    fs.writeFileSync(file, sampleCompose(0));
    const run = runInit(dir, '--compose', file);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/no worker services .* found under 'services:' in .*other\.yml/);
    expect(fs.existsSync(path.join(dir, 'data'))).toBe(false);
  });

  it('fails on a missing compose file and on unknown arguments', () => {
    const dir = tempDir();
    const missing = runInit(dir);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`no compose file at ${fs.realpathSync(dir)}/compose.yml`);
    const unknown = runInit(dir, '--frobnicate');
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('unknown argument: --frobnicate');
  });

  it('prints usage for --help and exits 0', () => {
    const run = spawnSync('bash', [INIT, '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: \.\/init\.sh/);
    expect(run.stdout).toContain('--compose FILE');
  });

  it.skipIf(!isRoot)(
    'without root, fails loudly naming the sudo command; passes once root ran',
    () => {
      const dir = tempDir();
      fs.chmodSync(dir, 0o777);
      const script = path.join(dir, 'init.sh');
      fs.copyFileSync(INIT, script);
      fs.writeFileSync(path.join(dir, 'compose.yml'), sampleCompose(1));
      const asNobody = (): SpawnSyncReturns<string> =>
        spawnSync(
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', script, '--dir', dir],
          { encoding: 'utf8' },
        );
      const run = asNobody();
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('cannot give these to UID:GID 1000:1000 without root');
      expect(run.stderr).toContain(`sudo ${script} --dir ${dir}\n`);
      expect(run.stderr).toContain(
        `sudo chown -R 1000:1000 ${dir}/data/worker1 ${dir}/profiles/worker1`,
      );
      expect(run.stdout).not.toContain('ready');
      expect(fs.statSync(path.join(dir, 'profiles/worker1')).uid).toBe(65534);
      // After a root run the paths belong to UID 1000; a later unprivileged run still passes.
      expect(spawnSync('bash', [script, '--dir', dir]).status).toBe(0);
      const rerun = asNobody();
      expect(rerun.status, rerun.stderr).toBe(0);
      expect(rerun.stdout).toContain('ownership: already 1000:1000');
      expect(rerun.stdout).toContain('ready: 1 worker(s)');
    },
  );
});
