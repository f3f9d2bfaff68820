/**
 * Attacks on a running worker and gateway (in this process, real PostgreSQL, Redis and emulator):
 * user keys on admin routes, one key reading another's things, large unauthenticated bodies,
 * image URLs that point inside, oversized and too many images, and the retention sweeper.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import {
  bearer,
  call,
  chat,
  flood,
  imageServer,
  PNG,
  startGateway,
  userSays,
  type CountingServer,
  type InProcessGateway,
} from './support/attack.ts';
import { startTestWorker, uniqueEmail, type TestWorker } from './support/worker.ts';
import { imageUrlCases } from './security/image-url-cases.ts';

const KEY_A = 'sk-user-a-0123456789';
const KEY_B = 'sk-user-b-9876543210';
const ADMIN = 'sk-admin-5555555555';
const MIB = 1024 * 1024;
const keys = { API_KEYS: `${KEY_A},${KEY_B}`, ADMIN_API_KEYS: ADMIN, ALLOW_NO_AUTH: '' };

let emulator: Emulator;
let worker: TestWorker;
/** A worker with IMAGE_URL_ALLOW_PRIVATE=1, so that a loopback server can play the internet. */
let trusted: TestWorker;
let gateway: InProcessGateway;
let gatewayUrl: string;
const email = uniqueEmail('security');
let images: CountingServer;

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 2 });
  worker = await startTestWorker({
    emulator,
    email,
    env: { ...keys, MAX_IMAGE_BYTES: String(MIB), RETENTION_SWEEP_INTERVAL_S: '1' },
  });
  trusted = await startTestWorker({
    emulator,
    email: uniqueEmail('security-trusted'),
    env: { ...keys, MAX_IMAGE_BYTES: String(MIB), IMAGE_URL_ALLOW_PRIVATE: '1' },
  });
  images = await imageServer(PNG);
  gateway = await startGateway(inject('pgUrl'), keys);
  gatewayUrl = gateway.url;
});

afterAll(async () => {
  images?.close();
  await gateway?.close();
  await worker?.close();
  await trusted?.close();
  await emulator?.close();
});

describe('roles', () => {
  const workerAdmin: [string, string][] = [
    ['POST', '/admin/session/refresh'],
    ['GET', '/admin/browser/screenshot'],
    ['POST', '/admin/cooldown/reset'],
    // In this order: the admin pass drains, then undrains, so the worker still serves after it.
    ['POST', '/admin/drain'],
    ['POST', '/admin/undrain'],
    ['GET', '/conversations'],
    ['GET', '/metrics'],
  ];
  const gatewayAdmin = ['/', '/dashboard/nodes', '/api/nodes', '/metrics'];

  it('a user key gets 403 in OpenAI shape on every admin route, worker and gateway', async () => {
    const targets = [
      ...workerAdmin.map(([method, route]) => [worker.url, method, route] as const),
      ...gatewayAdmin.map((route) => [gatewayUrl, 'GET', route] as const),
    ];
    for (const [base, method, route] of targets) {
      const r = await call(base, route, KEY_A, { method });
      expect(r.status, `${method} ${base}${route}`).toBe(403);
      expect(r.json.error).toMatchObject({ type: 'permission_error', code: 'forbidden' });
      expect((await call(base, route, null, { method })).status).toBe(401);
    }
  });

  it('an admin key passes the same routes, and may use user routes', async () => {
    for (const [method, route] of workerAdmin) {
      const r = await call(worker.url, route, ADMIN, { method });
      if (route === '/admin/browser/screenshot') {
        // No browser is attached (CHROME_CDP_URL=off): a 503 that says so, not a 403.
        expect(r.status, `${method} ${route}`).toBe(503);
        expect(r.json.error?.message).toMatch(/No browser is attached/);
      } else {
        expect(r.status, `${method} ${route}`).toBe(200);
      }
    }
    for (const route of gatewayAdmin) {
      expect((await call(gatewayUrl, route, ADMIN)).status).toBe(200);
    }
    expect((await chat(worker.url, ADMIN, userSays('admin as a user'))).status).toBe(200);
  });

  it('/health is open but says nothing about the account unless asked with an admin key', async () => {
    for (const base of [worker.url, gatewayUrl]) {
      for (const key of [null, KEY_A]) {
        const r = await call(base, '/health', key);
        expect(r.status).toBe(200);
        expect(r.text).not.toContain(email);
        expect(r.text).not.toContain(worker.account);
        expect(r.text).not.toMatch(/login|cooldown|worker_id|node_url|nodeUrl/);
      }
    }
    const full = await call(worker.url, '/health', ADMIN);
    expect(full.text).toContain(worker.account);
  });
});

describe('ownership', () => {
  it("key B gets 404 for key A's conversation, on every verb, and cannot continue it", async () => {
    const first = await chat(worker.url, KEY_A, userSays('remember the word heron'));
    expect(first.status).toBe(200);
    const id = first.headers.get('x-conversation-id')!;
    expect((await call(worker.url, `/conversations/${id}`, KEY_A)).status).toBe(200);
    expect((await call(worker.url, `/conversations/${id}`, ADMIN)).status).toBe(200);
    const b = await call(worker.url, `/conversations/${id}`, KEY_B);
    const missing = await call(worker.url, '/conversations/no-such-id', KEY_B);
    expect(b.status).toBe(404);
    expect(b.json.error?.code).toBe(missing.json.error?.code);
    expect(b.text).not.toContain('heron');
    expect(
      (await call(worker.url, `/conversations/${id}`, KEY_B, { method: 'DELETE' })).status,
    ).toBe(404);
    const hijack = await chat(worker.url, KEY_B, {
      ...userSays('what word?'),
      conversation_id: id,
    });
    expect(hijack.status).toBe(404);
    const still = await call(worker.url, `/conversations/${id}`, KEY_A);
    expect(still.text).toContain('heron');
    expect(still.text).not.toContain('what word?');
  });

  it("key B gets 404 for key A's upload", async () => {
    const form = new FormData();
    form.append('files', new Blob([PNG], { type: 'image/png' }), 'mine.png');
    const up = await call(worker.url, '/upload', KEY_A, { method: 'POST', body: form });
    expect(up.status).toBe(200);
    const ref = (JSON.parse(up.text) as { files: string[] }).files[0]!;
    const asB = await chat(worker.url, KEY_B, { ...userSays('describe it'), files: [ref] });
    expect(asB.status).toBe(404);
    expect(asB.json.error?.message).toBe(`Unknown file: ${ref}`);
    expect(
      (await chat(worker.url, KEY_A, { ...userSays('describe it'), files: [ref] })).status,
    ).toBe(200);
  });

  it("key B gets 404 for key A's generated image, on the worker and through the gateway", async () => {
    const drawn = await chat(worker.url, KEY_A, userSays('please draw a heron at dawn'));
    const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(drawn.text)?.[1];
    expect(link).toBeDefined();
    const route = new URL(link!.replace(/\\\//g, '/')).pathname;
    // The gateway relays to the worker once the worker's heartbeat made it fresh.
    for (const base of [worker.url, gatewayUrl]) {
      let own = await call(base, route, KEY_A);
      for (let i = 0; own.status !== 200 && i < 30; i += 1) {
        await sleep(200);
        own = await call(base, route, KEY_A);
      }
      expect(own.status, base).toBe(200);
      expect(own.headers.get('cache-control')).toMatch(/private/);
      expect((await call(base, route, KEY_B)).status, base).toBe(404);
      expect((await call(base, route, null)).status, base).toBe(401);
      expect((await call(base, route, ADMIN)).status, base).toBe(200);
    }
  });

  it("through the gateway: key B gets 404 for key A's conversation and upload", async () => {
    const first = await chat(gatewayUrl, KEY_A, userSays('remember the word egret'));
    expect(first.status).toBe(200);
    const id = first.headers.get('x-conversation-id')!;
    const own = await call(gatewayUrl, `/conversations/${id}`, KEY_A);
    expect(own.status).toBe(200);
    expect((await call(gatewayUrl, `/conversations/${id}`, KEY_B)).status).toBe(404);
    const form = new FormData();
    form.append('files', new Blob([PNG], { type: 'image/png' }), 'via-gateway.png');
    const up = await call(gatewayUrl, '/upload', KEY_A, { method: 'POST', body: form });
    expect(up.status).toBe(200);
    const ref = (JSON.parse(up.text) as { files: string[] }).files[0]!;
    const asB = await chat(gatewayUrl, KEY_B, { ...userSays('describe it'), files: [ref] });
    expect(asB.status).toBe(404);
  });
});

describe('bodies are read only after the key', () => {
  it('an unauthenticated 25 MiB POST gets 401 before its body is read, with little memory', async () => {
    const targets = [
      `${worker.url}/v1/chat/completions`,
      `${worker.url}/upload`,
      `${gatewayUrl}/v1/chat/completions`,
    ];
    for (const url of targets) {
      const r = await flood(url, 25 * MIB);
      expect(r.status, url).toBe(401);
      expect(r.writtenWhenAnswered, url).toBeLessThan(16 * MIB);
      expect(r.peakGrowthBytes, url).toBeLessThan(16 * MIB);
    }
    const nowhere = await flood(`${worker.url}/nowhere`, 25 * MIB);
    expect(nowhere.status).toBe(404);
    expect(nowhere.peakGrowthBytes).toBeLessThan(16 * MIB);
  });

  it('with a key, a body over the limit is a 413 in OpenAI shape', async () => {
    const r = await flood(`${worker.url}/v1/chat/completions`, 25 * MIB, bearer(KEY_A));
    expect(r.status).toBe(413);
    expect(r.peakGrowthBytes).toBeLessThan(16 * MIB);
  });
});

imageUrlCases(() => ({ worker, trusted, images, key: KEY_A }));

describe('retention', () => {
  it('the sweeper deletes old images and conversations on a running worker; /health counts', async () => {
    const old = new Date(Date.now() - 15 * 24 * 3_600_000);
    const image = path.join(worker.dataDir, 'images', '202001', '20200101', 'old.png');
    const conversation = path.join(worker.dataDir, 'conversations', 'ancient.json');
    for (const file of [image, conversation]) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, '{}');
      fs.utimesSync(file, old, old);
    }
    const deadline = Date.now() + 10_000;
    while ((fs.existsSync(image) || fs.existsSync(conversation)) && Date.now() < deadline) {
      await sleep(100);
    }
    expect(fs.existsSync(image)).toBe(false);
    expect(fs.existsSync(conversation)).toBe(false);
    const health = JSON.parse((await call(worker.url, '/health', ADMIN)).text) as {
      conversations: { total: number };
      storage: { total_images: number };
    };
    // What the earlier tests made is still there: counted, not walked per request.
    expect(health.conversations.total).toBeGreaterThan(0);
    expect(health.storage.total_images).toBeGreaterThan(0);
  });
});
