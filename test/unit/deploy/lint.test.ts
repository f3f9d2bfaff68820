/**
 * shellcheck on every shell script of the repository (and .ci/run); `npm test` provisions it
 * (scripts/provision.ts), so it is required here. hadolint itself on Dockerfile.kasm when it is
 * installed (neither Debian 12 nor npm ship a working one); its rules that matter are checked
 * statically in dockerfile.test.ts either way.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './compose-file.ts';

const SKIP_DIRS = new Set(['node_modules', '.git', 'data', 'profiles', '.stack', 'coverage']);

function has(tool: string): boolean {
  return spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
}

function shellScripts(dir = REPO_ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      return SKIP_DIRS.has(entry.name) ? [] : shellScripts(full);
    }
    return entry.isFile() && entry.name.endsWith('.sh') ? [full] : [];
  });
}

const hasShellcheck = has('shellcheck');
const hasHadolint = has('hadolint');

describe('shell scripts', () => {
  const scripts = [...shellScripts(), path.join(REPO_ROOT, '.ci/run')];

  it('include the deployment scripts', () => {
    const rel = scripts.map((s) => path.relative(REPO_ROOT, s));
    expect(rel).toEqual(
      expect.arrayContaining([
        'init.sh',
        'docker/custom_startup.sh',
        'docker/entrypoint.sh',
        'docker/gk-process-lib.sh',
        'docker/healthcheck.sh',
        '.ci/run',
      ]),
    );
  });

  it('pass shellcheck', () => {
    expect(hasShellcheck, 'shellcheck is missing: npm run provision installs it').toBe(true);
    const run = spawnSync('shellcheck', ['--external-sources', ...scripts], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('are executable, since vnc_startup.sh refuses a non-executable custom_startup.sh', () => {
    const scripts = ['init.sh', 'docker/custom_startup.sh', 'docker/entrypoint.sh'];
    for (const script of [...scripts, 'docker/healthcheck.sh']) {
      expect(fs.statSync(path.join(REPO_ROOT, script)).mode & 0o111, script).toBe(0o111);
    }
  });
});

describe('Dockerfile.kasm', () => {
  it.skipIf(!hasHadolint)(
    `passes hadolint${hasHadolint ? '' : ' (skipped: hadolint is not installed)'}`,
    () => {
      const run = spawnSync('hadolint', ['Dockerfile.kasm'], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );
});
