/** The operator console's audit log: who signed in, acted and signed out, by key id only. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { KeyRing, errorHandler, keyIdOf } from '../../../src/http/index.ts';
import { createLogger } from '../../../src/logging.ts';
import { createConsole } from '../../../src/gateway/index.ts';
import { ADMIN, USER, act, session, signOut } from './console-session.ts';
import { serverScope, type TestGateway } from './fake-servers.ts';
import { node } from './helpers.ts';
import { capturedLogger } from '../support/captured-logger.ts';

const scope = serverScope();

describe('console audit log', () => {
  it("logs sign-in, each action and sign-out with the key's id, never the key", async () => {
    const worker = await scope.worker((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"account":"reset"}');
    });
    const audit = capturedLogger();
    const ring = new KeyRing({
      apiKeys: [USER],
      adminApiKeys: [ADMIN],
      apiKeysFile: null,
      adminApiKeysFile: null,
      allowNoAuth: false,
    });
    const agent = new Agent();
    const console = createConsole({
      keys: ring,
      nodes: {
        snapshot: () => ({ nodes: [node({ nodeUrl: worker.url })], fetchedAtMs: 1, error: null }),
      },
      report: () => ({
        status: 'ok',
        total: 0,
        eligible: 0,
        registryAgeMs: 0,
        registryExpired: false,
        registryError: null,
        nodes: [],
      }),
      dispatcher: agent,
      logger: audit.logger,
    });
    const app = express()
      .use(console.router)
      .use(errorHandler(createLogger({ silent: true })));
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const g = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } as TestGateway;
    try {
      const s = await session(g);
      expect((await act(g, s, { node: worker.url, action: 'reset-cooldown' })).status).toBe(200);
      await signOut(g, s);
      const lines = audit.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      const keyId = keyIdOf(ADMIN);
      expect(lines.map((l) => [l['message'], l['keyId']])).toEqual([
        ['console sign-in', keyId],
        ['console action', keyId],
        ['console sign-out', keyId],
      ]);
      expect(lines[1]).toMatchObject({ action: 'reset-cooldown', node: worker.url, ok: true });
      expect(audit.text()).not.toContain(ADMIN);
    } finally {
      server.close();
      await agent.close();
    }
  });
});
