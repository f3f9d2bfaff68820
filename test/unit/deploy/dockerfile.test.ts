/**
 * Dockerfile.kasm read statically (no Docker engine runs here): pinned bases, the Kasm startup
 * hook, UID 1000, the health check, the exposed ports (never 9222), the gateway target that
 * compose.yml builds, and COPY sources that .dockerignore lets through.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readComposeFile } from './compose-file.ts';
import {
  argDefaults,
  argsOf,
  instructions,
  lintDockerfile,
  parseDockerfile,
} from './dockerfile-lint.ts';

const text = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile.kasm'), 'utf8');
const parsed = parseDockerfile(text);
const worker = parsed.stages.at(-1);
const args = argDefaults(parsed);

describe('Dockerfile.kasm', () => {
  it('builds the worker (last stage) on kasmweb/chrome and Node 22 at pinned tags', () => {
    expect(worker?.from).toBe('kasmweb/chrome:${KASM_TAG}');
    expect(args.get('KASM_TAG')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(args.get('NODE_VERSION')).toMatch(/^22\.\d+\.\d+$/);
    expect(parsed.stages[0]?.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    const code = instructions(text).map((i) => `${i.op} ${i.args}`);
    expect(code.join('\n')).not.toMatch(/nodesource|:latest\b/i);
  });

  it('installs custom_startup.sh, the entrypoint and its library as root:root, never writable by 1000', () => {
    const copies = argsOf(worker, 'COPY');
    expect(copies).toEqual(
      expect.arrayContaining([
        '--chown=root:root --chmod=755 docker/custom_startup.sh /dockerstartup/custom_startup.sh',
        '--chown=root:root --chmod=755 docker/entrypoint.sh /dockerstartup/gk-entrypoint.sh',
        '--chown=root:root --chmod=644 docker/gk-process-lib.sh /dockerstartup/gk-process-lib.sh',
        '--chown=root:root --chmod=755 docker/healthcheck.sh /usr/local/bin/gk-healthcheck',
      ]),
    );
    // The scripts source their library from their own directory: both land in /dockerstartup.
    for (const script of ['docker/entrypoint.sh', 'docker/custom_startup.sh']) {
      const source = fs.readFileSync(path.join(REPO_ROOT, script), 'utf8');
      expect(source).toContain('. "$(dirname "${BASH_SOURCE[0]}")/gk-process-lib.sh"');
    }
    const run = argsOf(worker, 'RUN').join(' && ');
    expect(run).not.toMatch(/(chown|chmod)[^&]*\/dockerstartup/);
    // BuildKit's COPY --chmod needs the dockerfile frontend named in the first line.
    expect(text.split('\n')[0]).toBe('# syntax=docker/dockerfile:1');
  });

  it("wraps Kasm's entrypoint so that docker stop closes the worker, then Chrome, then Kasm", () => {
    expect(argsOf(worker, 'ENTRYPOINT')).toEqual([
      '["/dockerstartup/gk-entrypoint.sh", "/dockerstartup/kasm_default_profile.sh", "/dockerstartup/vnc_startup.sh", "/dockerstartup/kasm_startup.sh"]',
    ]);
    expect(argsOf(worker, 'CMD')).toEqual(['["--wait"]']);
    expect(argsOf(worker, 'STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('keeps the Chrome profile at our own path, owned by 1000, mode 700, as compose mounts it', () => {
    const env = argsOf(worker, 'ENV').join(' ');
    expect(env).toContain('CHROME_PROFILE_DIR=/home/kasm-user/chrome-profile');
    const run = argsOf(worker, 'RUN').join(' && ');
    expect(run).toMatch(/chown -R 1000:0 [^&]*\/home\/kasm-user\/chrome-profile/);
    expect(run).toMatch(/chmod 700 \/home\/kasm-user\/chrome-profile/);
    expect(env).not.toMatch(/\.config/);
  });

  it('runs as UID 1000 with a health check on the worker port, exposing 6901 and 8000 only', () => {
    const users = argsOf(worker, 'USER');
    expect(users.at(-1)).toBe('1000');
    expect(argsOf(worker, 'HEALTHCHECK').join(' ')).toContain('http://127.0.0.1:8000/health');
    expect(argsOf(worker, 'EXPOSE')).toEqual(['6901 8000']);
    for (const stage of parsed.stages) {
      expect(argsOf(stage, 'EXPOSE').join(' ')).not.toMatch(/9222/);
    }
    const env = argsOf(worker, 'ENV').join(' ');
    expect(env).toContain('PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1');
    expect(env).toContain('PORT=8000');
    expect(env).toContain('CHROME_CDP_URL=http://127.0.0.1:9222');
  });

  it('has the gateway target that compose.yml builds, healthy on 8080', () => {
    const gateway = parsed.stages.find((s) => s.name === 'gateway');
    expect(gateway).toBeDefined();
    expect(argsOf(gateway, 'HEALTHCHECK').join(' ')).toContain('http://127.0.0.1:8080/health');
    const services = readComposeFile(path.join(REPO_ROOT, 'compose.yml'));
    expect(services.get('gateway')?.raw['build']).toMatchObject({
      dockerfile: 'Dockerfile.kasm',
      target: 'gateway',
    });
    expect(services.get('worker-1')?.raw['build']).toEqual({
      context: '.',
      dockerfile: 'Dockerfile.kasm',
      platforms: ['linux/amd64'],
    });
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const ignored = fs
      .readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
    const sources = parsed.stages
      .flatMap((s) => s.body)
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(' ').slice(0, -1))
      .filter((word) => !word.startsWith('--'));
    expect(sources).toEqual(
      expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'src']),
    );
    for (const source of sources) {
      expect(fs.existsSync(path.join(REPO_ROOT, source)), source).toBe(true);
      const top = source.split('/')[0] ?? source;
      expect(
        ignored.filter((p) => p === top || p === source),
        source,
      ).toEqual([]);
    }
    expect(ignored).toEqual(expect.arrayContaining(['.env', 'node_modules', 'data', 'profiles']));
  });
});

describe('hadolint rules, checked statically', () => {
  it('Dockerfile.kasm breaks none of them', () => {
    expect(lintDockerfile(text, ['gateway', 'worker'])).toEqual([]);
  });

  it('they catch what they are for', () => {
    const bad = [
      'FROM debian:latest AS one',
      'RUN apt-get update && apt-get install curl',
      'RUN curl -s https://x.test/i.sh | sh && cd /tmp && sudo true',
      'ADD app.tgz /app',
      'COPY x rel/',
      'WORKDIR app',
      'CMD node main.js',
      'FROM node AS two',
      'USER root',
    ].join('\n');
    const rules = lintDockerfile(bad, ['two', 'three']).map((f) => f.rule);
    expect(rules.sort()).toEqual(
      [
        ...['DL3007', 'DL3015', 'DL3014', 'DL3009', 'DL4006', 'DL3003', 'DL3004', 'DL3020'],
        ...['DL3025', 'DL3000', 'DL3045', 'DL3006', 'DL3002', 'DL3002'],
      ].sort(),
    );
  });
});
