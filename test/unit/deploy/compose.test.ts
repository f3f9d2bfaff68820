/**
 * compose.yml, read as Docker Compose reads it: the services, the ports (9222 never), the
 * volumes init.sh prepares, the per-service policies, secrets from .env, and the environment
 * that src/config.ts turns into a worker.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import {
  REPO_ROOT,
  interpolate,
  interpolatedNames,
  rangeHas,
  readComposeFile,
  sizeBytes,
  workerNumber,
  workerServices,
  readEnvExample,
} from './compose-file.ts';

const COMPOSE = path.join(REPO_ROOT, 'compose.yml');
const SECRETS = {
  VNC_PW: 'vnc-secret-1',
  DB_PASSWORD: 'db-secret-2',
  API_KEYS: 'sk-a,sk-b',
  ADMIN_API_KEYS: 'adm-c',
};
const services = readComposeFile(COMPOSE, SECRETS);
const rawServices = readComposeFile(COMPOSE);
const workers = workerServices(services);
const tempDirs: string[] = [];

afterAll(() => {
  tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

describe('compose.yml', () => {
  it('declares postgres, redis, gateway and worker-1, worker-2', () => {
    expect([...services.keys()]).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'gateway', 'worker-1', 'worker-2']),
    );
    expect(workers.map((w) => w.name)).toEqual(['worker-1', 'worker-2']);
  });

  it('never publishes or exposes port 9222, and never shares the host network', () => {
    for (const svc of services.values()) {
      for (const p of svc.ports) {
        expect(rangeHas(p.published, 9222), `${svc.name} publishes 9222`).toBe(false);
        expect(rangeHas(p.target, 9222), `${svc.name} maps a port to 9222`).toBe(false);
      }
      expect(
        svc.expose.some((r) => rangeHas(r, 9222)),
        `${svc.name} exposes 9222`,
      ).toBe(false);
      expect(svc.raw['network_mode'], `${svc.name} network_mode`).toBeUndefined();
    }
  });

  it('publishes VNC on 6900+N and the API on 8000+N for worker-N, each host port once', () => {
    for (const w of workers) {
      const n = workerNumber(w.name);
      const mapped = w.ports.map((p) => [p.published?.from, p.target.from]);
      expect(mapped, w.name).toEqual(
        expect.arrayContaining([
          [6900 + n, 6901],
          [8000 + n, 8000],
        ]),
      );
      expect(w.ports).toHaveLength(2);
    }
    const gateway = services.get('gateway');
    expect(gateway?.ports.map((p) => [p.published?.from, p.target.from])).toEqual([[8080, 8080]]);
    const hostPorts = [...services.values()].flatMap((s) => s.ports.map((p) => p.published?.from));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('mounts data/workerN at DATA_DIR and profiles/workerN at our own profile path, not ~/.config', () => {
    for (const w of workers) {
      const n = workerNumber(w.name);
      const dataDir = w.environment['DATA_DIR'];
      expect(dataDir).toMatch(/^\//);
      expect(w.volumes).toEqual([
        { source: `./data/worker${n}`, target: dataDir },
        { source: `./profiles/worker${n}`, target: '/home/kasm-user/chrome-profile' },
      ]);
      // Kasm copies its default profile into ~/.config at start: nothing of ours may be there.
      expect(w.volumes.some((v) => v.target.startsWith('/home/kasm-user/.config'))).toBe(false);
    }
    // custom_startup.sh runs Chrome on $HOME/chrome-profile, so the profile is the volume itself.
    const startup = fs.readFileSync(path.join(REPO_ROOT, 'docker/custom_startup.sh'), 'utf8');
    expect(startup).toContain('CHROME_PROFILE_DIR="${CHROME_PROFILE_DIR:-$HOME/chrome-profile}"');
  });

  it('mounts only host paths that init.sh creates', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-compose-init-'));
    tempDirs.push(dir);
    const run = spawnSync(
      'bash',
      [path.join(REPO_ROOT, 'init.sh'), '--dir', dir, '--compose', COMPOSE],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(0);
    for (const w of workers) {
      for (const v of w.volumes.filter((vol) => vol.source.startsWith('./'))) {
        expect(fs.statSync(path.join(dir, v.source)).isDirectory(), v.source).toBe(true);
      }
      const cache = path.join(dir, `data/worker${workerNumber(w.name)}/cookie_cache.json`);
      expect(fs.statSync(cache).isFile()).toBe(true);
    }
    expect(fs.readdirSync(path.join(dir, 'data')).sort()).toEqual(['worker1', 'worker2']);
    expect(fs.readdirSync(path.join(dir, 'profiles')).sort()).toEqual(['worker1', 'worker2']);
  });

  it('gives every service shm_size, a restart policy and a healthcheck', () => {
    for (const svc of services.values()) {
      expect(sizeBytes(svc.raw['shm_size']), `${svc.name} shm_size`).toBeGreaterThan(0);
      expect(['always', 'unless-stopped', 'on-failure']).toContain(svc.raw['restart']);
      const health = svc.raw['healthcheck'] as { test?: unknown; disable?: unknown } | undefined;
      expect(health?.disable, svc.name).not.toBe(true);
      expect(Array.isArray(health?.test) ? health.test.length : 0, svc.name).toBeGreaterThan(1);
    }
    for (const w of workers) {
      expect(sizeBytes(w.raw['shm_size'])).toBeGreaterThanOrEqual(512 * 1024 ** 2);
      expect(JSON.stringify(w.raw['healthcheck'])).toContain('http://127.0.0.1:8000/health');
    }
  });

  it('takes every secret from .env, never as a literal', () => {
    const secretKey = /(PASSWORD|_PW|SECRET|TOKEN|API_KEYS?)$/;
    let checked = 0;
    for (const svc of rawServices.values()) {
      for (const [key, value] of Object.entries(svc.environment)) {
        if (secretKey.test(key)) {
          checked += 1;
          expect(value, `${svc.name}.${key}`).toMatch(
            /^\$\{(VNC_PW|DB_PASSWORD|API_KEYS|ADMIN_API_KEYS)(:?\?[^}]*)?\}$/,
          );
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7);
    const text = fs.readFileSync(COMPOSE, 'utf8');
    expect(text).not.toMatch(/vncpassword|sk-[a-z0-9]{8,}/i);
    // Missing secrets stop compose instead of starting with an empty password.
    expect(() => readComposeFile(COMPOSE, { ...SECRETS, VNC_PW: '' })).toThrow(/VNC_PW/);
    expect(() => readComposeFile(COMPOSE, { ...SECRETS, DB_PASSWORD: '' })).toThrow(/DB_PASSWORD/);
  });

  it('gives each worker the environment DESIGN.md names', () => {
    const ids = new Set<string>();
    for (const w of workers) {
      const env = w.environment;
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining([
          'GEMINI_WORKER_ID',
          'GEMINI_WEIGHT',
          'EXTERNAL_IP',
          'EXTERNAL_PORT',
        ]),
      );
      expect(env).toMatchObject({
        DB_HOST: 'postgres',
        DB_PORT: '5432',
        DB_PASSWORD: SECRETS.DB_PASSWORD,
        REDIS_URL: 'redis://redis:6379',
        CHROME_CDP_URL: 'http://127.0.0.1:9222',
        API_KEYS: SECRETS.API_KEYS,
        ADMIN_API_KEYS: SECRETS.ADMIN_API_KEYS,
        VNC_PW: SECRETS.VNC_PW,
      });
      ids.add(env['GEMINI_WORKER_ID'] ?? '');
    }
    expect(ids.size).toBe(workers.length);
    expect(services.get('gateway')?.environment).toMatchObject({
      PORT: '8080',
      DB_HOST: 'postgres',
    });
  });

  it('resolves to a worker config that the gateway reaches on the compose network', () => {
    const inNetwork = readComposeFile(COMPOSE, SECRETS).get('worker-2');
    const config = loadConfig('worker', { ...inNetwork?.environment });
    expect(config).toMatchObject({
      port: 8000,
      workerId: 'gemini-worker-02',
      nodeUrl: 'http://worker-2:8000',
      cdpUrl: 'http://127.0.0.1:9222',
      dataDir: '/home/kasm-user/data',
      apiKeys: ['sk-a', 'sk-b'],
    });
    expect(config.database.connectionString).toBe(
      'postgresql://gemini:db-secret-2@postgres:5432/gemini',
    );
    const gatewayEnv = { ...services.get('gateway')?.environment };
    expect(loadConfig('gateway', gatewayEnv).port).toBe(8080);
  });

  it('and the README tell the same way to run init.sh: with sudo, every time', () => {
    for (const file of ['compose.yml', 'README.md']) {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
      const runs = [...text.matchAll(/([\w-]*)\s?\.\/init\.sh/g)].map((m) => m[1]);
      expect(runs.length, file).toBeGreaterThan(0);
      expect(new Set(runs), file).toEqual(new Set(['sudo']));
    }
  });

  it('interpolates only variables that .env.example documents, and .env.example has no dead ones', () => {
    const example = readEnvExample();
    const used = interpolatedNames(fs.readFileSync(COMPOSE, 'utf8'));
    expect([...used].sort()).toEqual([...example.keys()].sort());
    // The secrets ship empty so that compose refuses to start until someone sets them.
    for (const key of Object.keys(SECRETS)) {
      expect(example.get(key), key).toBe('');
    }
  });
});

describe('interpolate', () => {
  it('follows Compose rules for defaults, alternatives, required values and $$', () => {
    const env = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${NONE-d}', env)).toBe('v d  d');
    expect(interpolate('${SET:+r}|${EMPTY:+r}|${EMPTY+r}|${NONE+r}', env)).toBe('r||r|');
    expect(interpolate('$${SET} ${SET}', env)).toBe('${SET} v');
    expect(() => interpolate('${EMPTY:?needed}', env)).toThrow(/EMPTY.*needed/);
    expect(interpolate('${EMPTY?needed}', env)).toBe('');
  });
});
