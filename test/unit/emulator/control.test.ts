import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { Emulator, type UpstreamRecord } from '../../../src/emulator/index.ts';
import {
  CookieJar,
  GENERATE_URL,
  generateForm,
  scrapeAt,
  signedIn,
  useTestEmulator,
} from './support.ts';

const t = useTestEmulator();

const control = (route: string, method = 'GET', body?: unknown) =>
  t.fetch(`https://127.0.0.1/__emulator/${route}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });

describe('control API', () => {
  it('creates accounts and injects and clears faults; records show it all', async () => {
    const made = await control('accounts', 'POST', { email: 'ctl@example.com' });
    expect(made.status).toBe(200);
    const { email, cookies } = (await made.json()) as {
      email: string;
      cookies: { name: string; value: string }[];
    };
    expect(email).toBe('ctl@example.com');
    const jar = new CookieJar(cookies);
    const page = await t.fetch('https://gemini.google.com/app', {
      headers: { cookie: jar.header() },
    });
    const at = scrapeAt(await page.text()) ?? '';
    expect(at).not.toBe('');

    const fault = { email, fault: 'http_500', times: 'Infinity' };
    expect((await control('faults', 'POST', fault)).status).toBe(200);
    const gen = async () =>
      (
        await t.fetch(`${GENERATE_URL}?rt=c`, {
          method: 'POST',
          headers: { cookie: jar.header() },
          body: generateForm(at, 'ctl'),
        })
      ).status;
    expect([await gen(), await gen()]).toEqual([500, 500]);
    expect((await control(`faults?email=${encodeURIComponent(email)}`, 'DELETE')).status).toBe(200);
    expect(await gen()).toBe(200);

    const records = (await (await control('records')).json()) as UpstreamRecord[];
    const statuses = records.filter((r) => r.kind === 'generate').map((r) => r.status);
    expect(statuses).toEqual([500, 500, 200]);
    expect(records.every((r) => !r.path.startsWith('/__emulator/'))).toBe(true);
  });

  it('clears records and patches options', async () => {
    expect((await control('records', 'DELETE')).status).toBe(200);
    expect(await (await control('records')).json()).toEqual([]);
    expect(
      (await control('options', 'PATCH', { chunkDelayMs: 0, rotateMinIntervalMs: 5 })).status,
    ).toBe(200);
    expect((await control('options', 'PATCH', { bogus: 1 })).status).toBe(400);
    expect((await control('options', 'PATCH', { chunkDelayMs: -1 })).status).toBe(400);
  });

  it('validates input and serves the CA', async () => {
    expect((await control('faults', 'POST', { email: 'a@b.c', fault: 'nope' })).status).toBe(400);
    expect(
      (await control('faults', 'POST', { email: 'a@b.c', fault: 'stall', times: 0 })).status,
    ).toBe(400);
    expect((await control('accounts', 'POST', { email: 'not-an-email' })).status).toBe(400);
    const broken = await t.fetch('https://127.0.0.1/__emulator/accounts', {
      method: 'POST',
      body: '{',
    });
    expect(broken.status).toBe(400);
    expect((await control('nothing')).status).toBe(404);
    const ca = await (await control('ca.pem')).text();
    expect(ca).toBe(fs.readFileSync(t.emulator.caCertPath, 'utf8'));
  });
});

describe('robustness', () => {
  it('answers 404 for unknown hosts and paths, 405 for wrong methods, 413 for huge bodies', async () => {
    expect((await t.fetch('https://localhost/')).status).toBe(404);
    expect(t.emulator.records().at(-1)).toMatchObject({
      host: 'localhost',
      kind: 'other',
      status: 404,
    });
    expect((await t.fetch('https://gemini.google.com/nope')).status).toBe(404);
    expect((await t.fetch('https://accounts.google.com/nope')).status).toBe(404);
    expect(
      (
        await t.fetch(
          'https://gemini.google.com/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate',
        )
      ).status,
    ).toBe(405);
    const s = await signedIn(t, 'big@example.com');
    const huge = await s.generate(`at=${'x'.repeat(5 * 1024 * 1024)}`);
    expect(huge.status).toBe(413);
  });

  it('survives garbage on the socket and a broken TLS handshake', async () => {
    await new Promise<void>((resolve) => {
      const raw = net.connect(t.emulator.port, '127.0.0.1', () =>
        raw.end('GET / HTTP/1.1\r\n\r\n'),
      );
      raw.on('close', () => resolve());
      raw.on('error', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const sock = tls.connect(
        {
          port: t.emulator.port,
          host: '127.0.0.1',
          servername: 'gemini.google.com',
          rejectUnauthorized: false,
        },
        () => sock.end('\x00\x01garbage\r\n\r\n'),
      );
      sock.on('close', () => resolve());
      sock.on('error', () => resolve());
    });
    expect((await t.fetch('https://www.google.com/')).status).toBe(200);
  });

  it('maps every Google host in its host rules and reuses its CA', async () => {
    const rules = t.emulator.hostResolverRules();
    for (const host of [
      'gemini.google.com',
      'accounts.google.com',
      'www.google.com',
      'content-push.googleapis.com',
      '*.googleusercontent.com',
      '*.usercontent.google.com',
    ]) {
      expect(rules).toContain(`MAP ${host} 127.0.0.1:${t.emulator.port}`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-emu-ca-'));
    try {
      const a = await Emulator.start({ certDir: dir });
      const first = fs.readFileSync(a.caCertPath, 'utf8');
      await a.close();
      const b = await Emulator.start({ certDir: dir });
      expect(fs.readFileSync(b.caCertPath, 'utf8')).toBe(first);
      expect(b.port).not.toBe(0);
      expect(fs.statSync(path.join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
      await b.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
