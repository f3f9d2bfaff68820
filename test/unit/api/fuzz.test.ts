/**
 * Fuzz: 10 000 generated requests (fast-check) against the chat, upload, conversation, image and
 * admin routes of a real worker app on a loopback socket, with a fake Gemini behind it (the target
 * is input handling). No answer may be a 5xx, the process must not crash, and RSS stays bounded.
 */
import fc from 'fast-check';
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationStore,
  ImageStore,
  createWorkerApp,
  createWorkerMetrics,
  type ChatBackend,
  type FileBackend,
} from '../../../src/api/index.ts';
import { KeyRing } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';

const USER = 'sk-fuzz-user-key-000';
const ADMIN = 'sk-fuzz-admin-key-000';
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const backend: ChatBackend = {
  async *stream(job) {
    yield { type: 'text', delta: `echo ${job.prompt.length}` };
    yield {
      type: 'done',
      result: { text: 'echo', thoughts: '', images: [], chat: null, modelName: null },
    };
  },
};
const files: FileBackend = {
  upload: async (_data, fileName) => ({ fileId: `/contrib_service/${fileName}`, fileName }),
  fetchImage: async () => ({ data: PNG, contentType: 'image/png' }),
};

let server: http.Server;
let base: string;
const agent = new Agent({ connections: 8 });

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gk-fuzz-'));
  const app = createWorkerApp({
    keys: new KeyRing({
      apiKeys: [USER],
      adminApiKeys: [ADMIN],
      apiKeysFile: null,
      adminApiKeysFile: null,
      allowNoAuth: false,
    }),
    trustProxy: false,
    limits: {
      bodyBytes: 64 * 1024,
      uploadBytes: 16 * 1024,
      imageBytes: 16 * 1024,
      imagesPerRequest: 4,
    },
    // Every name resolves to loopback, which is refused: nothing leaves the machine.
    imageFetch: { allowPrivate: false, timeoutMs: 300, resolve: async () => ['127.0.0.1'] },
    uploadsDir: path.join(dir, 'uploads'),
    logger: createLogger({ silent: true }),
    backend,
    files,
    conversations: new ConversationStore(path.join(dir, 'conversations')),
    images: new ImageStore(path.join(dir, 'images')),
    status: {
      health: async () => ({ account: 'fuzz@example.com' }),
      readiness: async () => ({ ready: true, reason: null }),
    },
    admin: {
      refreshSession: async () => ({ login_state: 'logged_in' }),
      screenshot: async () => PNG,
      resetCooldown: async () => ({ account: 'ok' }),
    },
    metrics: createWorkerMetrics('fuzz', () => ({
      status: 'HEALTHY',
      loginState: 'logged_in',
      currentTasks: 0,
      queueWaiting: 0,
      cooldownRemainingS: 0,
    })),
  });
  server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  server.close();
});

const authHeader = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc.constant({ authorization: `Bearer ${USER}` }),
  fc.constant({ authorization: `Bearer ${ADMIN}` }),
  fc.constant({ 'x-api-key': USER }),
  fc
    .string({ maxLength: 40 })
    .map((s) => ({ authorization: `Bearer ${s.replace(/[\r\n]/g, '')}` })),
  fc
    .string({ maxLength: 30 })
    .map((s) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` })),
);
const keyed = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ authorization: `Bearer ${USER}` }) },
  { weight: 1, arbitrary: authHeader },
);

const imageUrl = fc.oneof(
  fc.constant(`data:image/png;base64,${PNG.toString('base64')}`),
  fc.string({ maxLength: 60 }).map((s) => `data:image/png;base64,${s}`),
  fc.webUrl(),
  fc.constantFrom(
    'http://127.0.0.1/x.png',
    'http://[::1]/x',
    'http://169.254.169.254/',
    'file:///etc/passwd',
    'uploads/../../etc/passwd',
    'uploads/.owners/x',
    'javascript:alert(1)',
  ),
  fc.string({ maxLength: 80 }),
);
const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 200 }) }),
  fc.record({
    type: fc.constant('image_url'),
    image_url: fc.oneof(
      imageUrl,
      fc.record({ url: imageUrl, detail: fc.string({ maxLength: 5 }) }),
    ),
  }),
  fc.record({ type: fc.string({ maxLength: 10 }), url: fc.string({ maxLength: 10 }) }),
);
const message = fc.record(
  {
    role: fc.oneof(
      fc.constantFrom('system', 'user', 'assistant', 'tool', 'developer'),
      fc.string({ maxLength: 8 }),
    ),
    content: fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(part, { maxLength: 6 }),
      fc.constant(null),
      fc.jsonValue(),
    ),
    name: fc.string({ maxLength: 10 }),
  },
  { requiredKeys: ['role'] },
);
const chatBody = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record(
        {
          model: fc.oneof(
            fc.constantFrom('gemini-2.5-flash', 'gemini-default'),
            fc.string({ maxLength: 20 }),
          ),
          messages: fc.array(message, { maxLength: 5 }),
          stream: fc.oneof(fc.boolean(), fc.jsonValue()),
          conversation_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 140 }), fc.constant(null)),
          files: fc.array(fc.oneof(fc.string({ maxLength: 40 }), fc.constant('uploads/x.png')), {
            maxLength: 12,
          }),
          n: fc.oneof(fc.constant(1), fc.integer()),
        },
        { requiredKeys: ['messages'] },
      )
      .map((b) => JSON.stringify(b)),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 500 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => `{"messages":[${s}`) },
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=nope',
      'multipart/form-data; boundary=x',
      '',
    ),
  },
);

interface Sent {
  readonly method: string;
  readonly route: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
}

async function send(s: Sent): Promise<number> {
  const res = await agent.request({
    origin: base,
    method: s.method,
    path: s.route,
    headers: s.headers,
    ...(s.body === undefined ? {} : { body: s.body }),
  });
  await res.body.dump();
  return res.statusCode;
}

function multipart(name: string, type: string, data: Buffer, boundary: string): Buffer {
  const safe = name.replace(/["\r\n]/g, '_');
  return Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="files"; filename="${safe}"\r\ncontent-type: ${type.replace(/[\r\n]/g, '')}\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

const chatRequest = fc.tuple(keyed, contentType, chatBody).map(([auth, type, body]): Sent => ({
  method: 'POST',
  route: '/v1/chat/completions',
  headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
  body,
}));
const uploadRequest = fc
  .tuple(
    keyed,
    fc.string({ maxLength: 120 }),
    fc.oneof(
      fc.constantFrom('image/png', 'application/pdf', 'text/plain', 'application/x-msdownload'),
      fc.string({ maxLength: 30 }),
    ),
    fc.oneof(
      fc.constant(PNG),
      fc.uint8Array({ maxLength: 20_000 }).map((a) => Buffer.from(a)),
    ),
    fc.oneof(
      fc.constant('b0undary'),
      fc.string({ minLength: 1, maxLength: 70 }).filter((b) => !/[\r\n"]/.test(b)),
    ),
    fc.boolean(),
  )
  .map(([auth, name, type, data, boundary, wellFormed]): Sent => ({
    method: 'POST',
    route: '/upload',
    headers: {
      ...auth,
      'content-type': `multipart/form-data; boundary=${boundary.replace(/[\r\n]/g, '')}`,
    },
    body: wellFormed ? multipart(name, type, data, boundary) : data,
  }));
const otherRequest = fc
  .tuple(
    authHeader,
    fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
    fc.oneof(
      fc.constantFrom(
        '/admin/session/refresh',
        '/admin/browser/screenshot',
        '/admin/cooldown/reset',
        '/conversations',
        '/metrics',
        '/health',
        '/ready',
        '/v1/models',
      ),
      fc.string({ maxLength: 60 }).map((s) => `/conversations/${encodeURIComponent(s)}`),
      fc.string({ maxLength: 60 }).map((s) => `/images/${s.replace(/[^\x21-\x7e]/g, '')}`),
      fc.webPath().map((p) => p || '/'),
    ),
    fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
  )
  .map(([auth, method, route, body]): Sent => ({
    method,
    route: route.startsWith('/') ? route : `/${route}`,
    headers: { ...auth, 'content-type': 'application/json' },
    ...(body === undefined || method === 'GET' ? {} : { body }),
  }));

describe('fuzz: generated requests against the worker app', () => {
  it('10 000 requests to chat, upload, conversations, images and admin: no 5xx, RSS bounded', async () => {
    const rssBefore = process.memoryUsage().rss;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const check = async (s: Sent) => {
      const status = await send(s);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) {
        failures.push(`${status} ${s.method} ${s.route} ${String(s.body).slice(0, 200)}`);
      }
      return status < 500;
    };
    const runs: [fc.Arbitrary<Sent>, number][] = [
      [chatRequest, 5000],
      [uploadRequest, 2000],
      [otherRequest, 3000],
    ];
    for (const [arbitrary, numRuns] of runs) {
      await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns, endOnFailure: true });
    }
    expect(failures).toEqual([]);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(10_000);
    // Some requests got through to a 200, and many were refused: the generators hit both sides.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(100);
    expect((statuses.get(400) ?? 0) + (statuses.get(401) ?? 0)).toBeGreaterThan(1000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    // Still serving.
    expect(await send({ method: 'GET', route: '/health', headers: {} })).toBe(200);
  }, 300_000);
});
