/**
 * Dockerfile.kasm read statically (no Docker engine runs here): pinned bases, the Kasm startup
 * hook, UID 1000, the health check, the exposed ports (never 9222), the gateway target that
 * compose.yml builds, and COPY sources that .dockerignore lets through.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, readComposeFile } from './compose-file.ts';

interface Instruction {
  readonly op: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | null;
  readonly body: Instruction[];
}

const text = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile.kasm'), 'utf8');

/** Instructions with line continuations joined and comments dropped. */
function instructions(source: string): Instruction[] {
  const logical = source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => /^\s*([A-Za-z]+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({
      op: (m[1] ?? '').toUpperCase(),
      args: (m[2] ?? '').replace(/\s+/g, ' ').trim(),
    }));
}

function stages(all: Instruction[]): { globals: Instruction[]; stages: Stage[] } {
  const globals: Instruction[] = [];
  const out: Stage[] = [];
  for (const ins of all) {
    if (ins.op === 'FROM') {
      const [from = '', , name = null] = ins.args.split(' ');
      out.push({ from, name, body: [] });
    } else if (out.length === 0) {
      globals.push(ins);
    } else {
      out[out.length - 1]?.body.push(ins);
    }
  }
  return { globals, stages: out };
}

const parsed = stages(instructions(text));
const worker = parsed.stages.at(-1);
const args = new Map(
  parsed.globals
    .filter((i) => i.op === 'ARG')
    .map((i) => i.args.split('=') as [string, string | undefined]),
);

function argsOf(stage: Stage | undefined, op: string): string[] {
  return (stage?.body ?? []).filter((i) => i.op === op).map((i) => i.args);
}

describe('Dockerfile.kasm', () => {
  it('builds the worker (last stage) on kasmweb/chrome and Node 22 at pinned tags', () => {
    expect(worker?.from).toBe('kasmweb/chrome:${KASM_TAG}');
    expect(args.get('KASM_TAG')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(args.get('NODE_VERSION')).toMatch(/^22\.\d+\.\d+$/);
    expect(parsed.stages[0]?.from).toBe('node:${NODE_VERSION}-bookworm-slim');
    const code = instructions(text).map((i) => `${i.op} ${i.args}`);
    expect(code.join('\n')).not.toMatch(/nodesource|:latest\b/i);
  });

  it('installs our custom_startup.sh where vnc_startup.sh runs it, executable', () => {
    expect(argsOf(worker, 'COPY')).toContain(
      'docker/custom_startup.sh /dockerstartup/custom_startup.sh',
    );
    const run = argsOf(worker, 'RUN').join(' && ');
    expect(run).toMatch(/chmod 755 \/dockerstartup\/custom_startup\.sh/);
    expect(run).toMatch(/chown 1000:0 \/dockerstartup\/custom_startup\.sh/);
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
      .flatMap((i) => i.args.split(' ').slice(0, -1));
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
