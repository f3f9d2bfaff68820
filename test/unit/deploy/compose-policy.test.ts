/**
 * compose.yml's exposure and lifecycle policies, read with a YAML parser: nothing published on
 * 0.0.0.0 unless PUBLISH_IP says so, a stop_grace_period that covers the entrypoint's ordered
 * stop, and one worker image built once and run by every worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readComposeFile, readEnvExample, workerServices } from './compose-file.ts';

const COMPOSE = path.join(REPO_ROOT, 'compose.yml');
const SECRETS = { VNC_PW: 'v', DB_PASSWORD: 'd', API_KEYS: 'k', ADMIN_API_KEYS: 'a' };
const services = readComposeFile(COMPOSE, SECRETS);
const workers = workerServices(services);

/** Seconds in a compose duration (`45s`, `1m30s`, `2m`). */
function durationSeconds(value: unknown): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(value));
  if (!m || (!m[1] && !m[2])) {
    throw new Error(`not a duration: ${String(value)}`);
  }
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

describe('compose.yml policies', () => {
  it('publishes nothing on 0.0.0.0 by default: every port binds PUBLISH_IP, 127.0.0.1 unless set', () => {
    const published = [...services.values()].flatMap((s) => s.ports);
    expect(published.length).toBeGreaterThan(0);
    for (const p of published) {
      expect(p.hostIp).toBe('127.0.0.1');
    }
    // The same with the .env that init.sh copies from .env.example.
    const fromExample = readComposeFile(COMPOSE, {
      ...Object.fromEntries(readEnvExample()),
      ...SECRETS,
    });
    for (const svc of fromExample.values()) {
      expect(
        svc.ports.every((p) => p.hostIp === '127.0.0.1'),
        svc.name,
      ).toBe(true);
    }
    // Opening them is one deliberate setting.
    const open = readComposeFile(COMPOSE, { ...SECRETS, PUBLISH_IP: '0.0.0.0' });
    const openPorts = [...open.values()].flatMap((s) => s.ports);
    expect(openPorts.every((p) => p.hostIp === '0.0.0.0')).toBe(true);
    expect(openPorts).toHaveLength(published.length);
  });

  it('gives the workers a stop_grace_period longer than the ordered stop takes', () => {
    const entrypoint = fs.readFileSync(path.join(REPO_ROOT, 'docker/entrypoint.sh'), 'utf8');
    const timeout = (name: string) =>
      Number(new RegExp(`${name}="\\$\\{${name}:-(\\d+)\\}"`).exec(entrypoint)?.[1]);
    const needed = timeout('GK_STOP_TIMEOUT_S') + timeout('KASM_STOP_TIMEOUT_S');
    expect(needed).toBeGreaterThan(20);
    for (const w of workers) {
      expect(durationSeconds(w.raw['stop_grace_period']), w.name).toBeGreaterThan(needed);
    }
    expect(durationSeconds(services.get('gateway')?.raw['stop_grace_period'])).toBeGreaterThan(10);
  });

  it('builds one worker image once (worker-1) that every worker runs; the gateway runs dist/', () => {
    const builders = workers.filter((w) => w.raw['build'] !== undefined);
    expect(builders.map((w) => w.name)).toEqual(['worker-1']);
    const image = builders[0]?.raw['image'];
    expect(image).toMatch(/^gemini-kasm-worker:/);
    expect(builders[0]?.raw['pull_policy']).toBe('build');
    for (const w of workers.slice(1)) {
      expect([w.raw['image'], w.raw['pull_policy']], w.name).toEqual([image, 'never']);
    }
    for (const w of workers) {
      expect(w.raw['platform'], w.name).toBe('linux/amd64');
    }
    const gateway = services.get('gateway');
    expect(gateway?.raw['image']).toMatch(/^gemini-kasm-gateway:/);
    expect(gateway?.raw['command']).toEqual(['node', 'dist/main.js', 'gateway']);
  });
});
