/**
 * The account's state in its registry row, from e2e/registry.test.ts: a quota failure shows as
 * 429_LIMIT with cooldown_until and reason, and reset() clears it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { Heartbeat, listNodes, migrate, type NodeSnapshot } from '../../src/registry/index.ts';
import { AccountState, runGuarded, type AccountSnapshot } from '../../src/account/index.ts';
import { GeminiError, type GenerateRequest } from '../../src/gemini/index.ts';
import { createCommandRedis } from '../../src/queue/index.ts';
import { tempDir } from '../support/services.ts';
import { cleanups, freshDb, ID } from './db.ts';

/** How the worker maps its account's state onto the registry row (the lead wires the same). */
function fromAccount(a: AccountSnapshot, currentTasks: number, queueWaiting: number): NodeSnapshot {
  return {
    currentTasks,
    queueWaiting,
    cooldownUntil: a.cooldown?.until ?? null,
    cooldownReason: a.cooldown?.reason ?? null,
    loginState: a.loginState,
    hasServed: a.lastSuccessAt !== null,
    models: ['gemini-2.5-flash'],
    version: '0.1.0',
  };
}

/** Defines the cases. */
export function accountCases(): void {
  describe('account state in the registry', () => {
    it('a quota failure shows as 429_LIMIT with cooldown_until and reason; reset() clears it', async () => {
      const { pool } = await freshDb();
      await migrate(pool);
      const redis = createCommandRedis(inject('redisUrl'));
      const dataDir = tempDir('registry-account');
      const account = await AccountState.open({
        account: ID.account,
        dataDir,
        redis,
        keyPrefix: `t-${randomUUID()}:`,
        cooldown: { quotaMs: 3_600_000, jitterMs: 300_000, transientMs: 60_000 },
      });
      cleanups.push(async () => {
        await account.close();
        redis.disconnect();
        fs.rmSync(dataDir, { recursive: true, force: true });
      });
      const hb = new Heartbeat({
        pool,
        identity: ID,
        snapshot: () => fromAccount(account.snapshot(), 0, 0),
        intervalMs: 60_000,
      });
      // eslint-disable-next-line require-yield
      const quota = async function* (req: GenerateRequest) {
        await req.gate?.ready?.();
        throw new GeminiError('quota', 'usage limit', { upstreamCode: 1037, httpStatus: 429 });
      };
      const job = {
        requestId: 'r',
        model: { name: 'm', header: null, thinking: false },
        prompt: 'p',
        inputs: [],
        chat: null,
        replayPrompt: null,
      };
      await expect(
        (async () => {
          for await (const _ of runGuarded(
            job,
            { account, generate: quota },
            new AbortController().signal,
          )) {
            // nothing is yielded
          }
        })(),
      ).rejects.toMatchObject({ status: 429 });

      await hb.beat();
      const cooling = (await listNodes(pool))[0];
      expect(cooling).toMatchObject({ status: '429_LIMIT', cooldown_reason: 'quota' });
      expect(cooling?.cooldown_until?.getTime()).toBe(account.snapshot().cooldown?.until);
      expect(cooling?.cooldown_until?.getTime()).toBeGreaterThan(Date.now() + 3_500_000);

      await account.reset();
      await hb.beat();
      expect((await listNodes(pool))[0]).toMatchObject({
        status: 'INIT',
        cooldown_until: null,
        cooldown_reason: null,
      });
    });
  });
}
