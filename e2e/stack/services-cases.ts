/**
 * The local services' stop and kill, from e2e/stack.test.ts: PostgreSQL's server and backends
 * end, and start() brings it back; Chromium leaves no process with its profile or config.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isPortFree } from '../../scripts/lib/index.ts';
import {
  commandLine,
  descendantPids,
  processId,
  processesMentioning,
} from '../../scripts/lib/process-tree.ts';
import { startChromium, startPostgres, tempDir } from '../support/services.ts';
import { dirs, leftovers } from './runs.ts';

/** Defines the cases. */
export function servicesCases(): void {
  describe('local services', () => {
    async function queryable(url: string): Promise<boolean> {
      const client = new pg.Client({ connectionString: url });
      try {
        await client.connect();
        return (await client.query('select 1 as one')).rows.length === 1;
      } finally {
        await client.end().catch(() => undefined);
      }
    }

    it('PostgreSQL stop() and kill() end the server and its backends; start() brings it back', async () => {
      const server = await startPostgres();
      try {
        const held = new pg.Client({ connectionString: server.url });
        held.on('error', () => undefined);
        await held.connect();
        const first = processId(server.process()?.pid ?? -1);
        const backends = await descendantPids(first?.pid ?? -1);
        expect(first).not.toBeNull();
        expect(backends.length).toBeGreaterThan(0);
        await server.stop();
        expect(leftovers([first, ...backends])).toEqual([]);
        expect(await isPortFree(server.port)).toBe(true);

        await server.start();
        expect(await queryable(server.url)).toBe(true);
        const second = processId(server.process()?.pid ?? -1);
        const tree = [second, ...(await descendantPids(second?.pid ?? -1))];
        await server.kill();
        expect(leftovers(tree)).toEqual([]);
        await server.start();
        expect(await queryable(server.url)).toBe(true);
      } finally {
        await server.stop();
      }
    }, 120_000);

    it('Chromium stop() leaves no process with its profile or config directory', async () => {
      const configDir = tempDir('stack-chrome-config');
      const chrome = await startChromium({ configDir });
      dirs.push(configDir, chrome.userDataDir);
      expect((await processesMentioning(chrome.userDataDir)).length).toBeGreaterThan(1);
      await chrome.stop();
      expect((await processesMentioning(chrome.userDataDir)).map(commandLine)).toEqual([]);
      expect((await processesMentioning(configDir)).map(commandLine)).toEqual([]);
    }, 60_000);
  });
}
