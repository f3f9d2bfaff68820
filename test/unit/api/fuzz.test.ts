/**
 * Fuzz: 10 000 generated requests (fast-check) against the chat, upload, conversation, image and
 * admin routes of a real worker app on a loopback socket, with a fake Gemini behind it (the target
 * is input handling). No answer may be a 5xx, the process must not crash, and RSS stays bounded.
 */
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoBackend, startWorkerApp, type RunningWorkerApp } from './app-fixture.ts';
import {
  ADMIN,
  PNG,
  USER,
  chatRequest,
  otherRequest,
  uploadRequest,
  type Sent,
} from './fuzz-requests.ts';

const backend = echoBackend;
let app: RunningWorkerApp;
let base: string;
const agent = new Agent({ connections: 8 });

beforeAll(async () => {
  app = await startWorkerApp({
    name: 'fuzz',
    backend,
    userKey: USER,
    adminKey: ADMIN,
    deps: {
      limits: {
        bodyBytes: 64 * 1024,
        uploadBytes: 16 * 1024,
        promptChars: 32 * 1024,
        imageBytes: 16 * 1024,
        imagesPerRequest: 4,
      },
      status: {
        health: async () => ({ account: 'fuzz@example.com' }),
        readiness: async () => ({ ready: true, reason: null }),
      },
      admin: {
        refreshSession: async () => ({ login_state: 'logged_in' }),
        screenshot: async () => PNG,
        resetCooldown: async () => ({ account: 'ok' }),
        setDraining: async (draining) => ({ draining }),
      },
    },
  });
  base = app.url;
});

afterAll(async () => {
  await agent.close();
  await app.close();
});

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
