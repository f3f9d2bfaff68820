import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { buildConnector } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostResolverRules } from '../../../src/gemini/host-rules.ts';
import {
  BodyTooLargeError,
  createHttpClient,
  createMappedConnector,
  type HttpClient,
} from '../../../src/gemini/http.ts';
import { startFakeGoogle, type FakeGoogle } from './support/fake-google.ts';

const run = promisify(execFile);

interface ChildResult {
  ok: boolean;
  status?: number;
  body?: string;
  code?: string;
}
const ROOT = path.resolve(import.meta.dirname, '../../..');

let fake: FakeGoogle;
let http: HttpClient;

beforeAll(async () => {
  fake = await startFakeGoogle();
  http = createHttpClient({ hostResolverRules: fake.rules, ca: fake.certs.caCert });
  fake.on('GET', 'gemini.google.com/echo', (req, res) => {
    res.setHeader('set-cookie', ['A=1; Path=/', 'B=2; Domain=.google.com; Secure']);
    res.setHeader('x-multi', ['one', 'two']);
    res.end(
      JSON.stringify({
        host: req.headers.host,
        sni: req.servername,
        path: req.url.pathname + req.url.search,
      }),
    );
  });
  fake.on('GET', 'gemini.google.com/redirect', (_req, res) => {
    res.writeHead(302, { location: 'https://accounts.google.com/ServiceLogin' }).end();
  });
  fake.on('GET', 'gemini.google.com/chunks', async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (const part of ['one,', 'two,', 'three']) {
      res.write(part);
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end();
  });
  fake.on('POST', 'content-push.googleapis.com/upload', (req, res) => {
    res.end(`got ${req.body.length} bytes: ${req.body.toString()}`);
  });
});

afterAll(async () => {
  await http.close();
  await fake.close();
});

describe('createHttpClient', () => {
  it('connects to the mapped address but keeps the real Host header and TLS server name', async () => {
    const res = await http.request('https://gemini.google.com/echo?q=1');
    expect(res.status).toBe(200);
    expect(JSON.parse(await res.text())).toEqual({
      host: 'gemini.google.com',
      sni: 'gemini.google.com',
      path: '/echo?q=1',
    });
    expect(res.url.href).toBe('https://gemini.google.com/echo?q=1');
  });

  it('exposes every Set-Cookie line and joins other repeated headers', async () => {
    const res = await http.request('https://gemini.google.com/echo');
    await res.discard();
    expect(res.setCookies).toEqual(['A=1; Path=/', 'B=2; Domain=.google.com; Secure']);
    expect(res.header('X-Multi')).toBe('one, two');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('does not follow redirects', async () => {
    const res = await http.request('https://gemini.google.com/redirect');
    await res.discard();
    expect(res.status).toBe(302);
    expect(res.header('location')).toBe('https://accounts.google.com/ServiceLogin');
    expect(fake.seen('GET', 'accounts.google.com/ServiceLogin')).toHaveLength(0);
  });

  it('streams the body as chunks and reads bytes with a limit', async () => {
    const res = await http.request('https://gemini.google.com/chunks');
    let text = '';
    for await (const chunk of res.body) {
      text += Buffer.from(chunk).toString();
    }
    expect(text).toBe('one,two,three');
    const again = await http.request('https://gemini.google.com/chunks');
    await expect(again.bytes(4)).rejects.toBeInstanceOf(BodyTooLargeError);
    const ok = await http.request('https://gemini.google.com/chunks');
    expect((await ok.bytes(100)).toString()).toBe('one,two,three');
  });

  it('posts bodies to other mapped hosts', async () => {
    const res = await http.request('https://content-push.googleapis.com/upload', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('hello'),
    });
    expect(await res.text()).toBe('got 5 bytes: hello');
  });

  it('reuses pooled connections (keep-alive)', async () => {
    const before = fake.connections();
    for (let i = 0; i < 3; i += 1) {
      await (await http.request('https://gemini.google.com/echo')).discard();
    }
    expect(fake.connections() - before).toBeLessThanOrEqual(1);
  });

  it('rejects a server whose CA it does not trust', async () => {
    const untrusting = createHttpClient({ hostResolverRules: fake.rules });
    try {
      await expect(untrusting.request('https://gemini.google.com/echo')).rejects.toMatchObject({
        code: expect.stringMatching(/CERT|SIGN|ISSUER/) as unknown,
      });
    } finally {
      await untrusting.close();
    }
  });

  it('rejects bad host resolver rules at creation', () => {
    expect(() => createHttpClient({ hostResolverRules: 'MAP nonsense' })).toThrow(
      /Invalid host resolver/,
    );
  });

  it('has an idempotent close', async () => {
    const c = createHttpClient();
    await Promise.all([c.close(), c.close()]);
    await c.close();
  });
});

describe('createMappedConnector', () => {
  type Opts = buildConnector.Options;
  const capture = () => {
    const calls: Opts[] = [];
    const base: buildConnector.connector = (options) => {
      calls.push(options);
    };
    return { calls, base };
  };
  const rules = parseHostResolverRules(
    'MAP *.google.com 127.0.0.1:9, MAP nf.test ~NOTFOUND, MAP 10.0.0.1 127.0.0.1',
  );

  it('rewrites the address and sets the real server name', () => {
    const { calls, base } = capture();
    const connect = createMappedConnector(rules, base);
    connect(
      { hostname: 'gemini.google.com', host: 'gemini.google.com', protocol: 'https:', port: '' },
      () => undefined,
    );
    expect(calls[0]).toMatchObject({
      hostname: '127.0.0.1',
      port: '9',
      servername: 'gemini.google.com',
    });
  });

  it('passes unmapped hosts through untouched', () => {
    const { calls, base } = capture();
    const options = { hostname: 'example.com', host: 'example.com', protocol: 'https:', port: '' };
    createMappedConnector(rules, base)(options, () => undefined);
    expect(calls[0]).toBe(options);
  });

  it('sends no server name for IP hosts and keeps the port', () => {
    const { calls, base } = capture();
    createMappedConnector(rules, base)(
      { hostname: '10.0.0.1', protocol: 'https:', port: '8443' },
      () => undefined,
    );
    expect(calls[0]).toMatchObject({ hostname: '127.0.0.1', port: '8443' });
    expect(calls[0]?.servername).toBeUndefined();
  });

  it('fails ~NOTFOUND hosts with ENOTFOUND', () => {
    const { calls, base } = capture();
    const errors: unknown[] = [];
    createMappedConnector(rules, base)(
      { hostname: 'nf.test', protocol: 'https:', port: '' },
      (...args) => {
        errors.push(args[0]);
      },
    );
    expect(calls).toHaveLength(0);
    expect(errors[0]).toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('NODE_EXTRA_CA_CERTS', () => {
  it('is what makes a child process trust the test CA, with no option in our code', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-gemini-ca-'));
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, fake.certs.caCert);
    const fixture = path.join(ROOT, 'test/unit/gemini/support/fetch-child.ts');
    const runChild = async (extraEnv: Record<string, string>) => {
      const env = { ...process.env, ...extraEnv };
      delete env['NODE_OPTIONS'];
      if (!('NODE_EXTRA_CA_CERTS' in extraEnv)) {
        delete env['NODE_EXTRA_CA_CERTS'];
      }
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', fixture, 'https://gemini.google.com/echo', fake.rules],
        { cwd: ROOT, env, timeout: 30_000 },
      );
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ChildResult;
    };
    try {
      const trusted = await runChild({ NODE_EXTRA_CA_CERTS: caFile });
      expect(trusted).toMatchObject({ ok: true, status: 200 });
      expect(JSON.parse(trusted.body ?? '')).toMatchObject({
        host: 'gemini.google.com',
        sni: 'gemini.google.com',
      });
      const untrusted = await runChild({});
      expect(untrusted.ok).toBe(false);
      expect(untrusted.code ?? '').toMatch(/CERT|SIGN|ISSUER/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
