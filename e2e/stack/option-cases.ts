/**
 * `npm run stack`'s options and command line, from e2e/stack.test.ts: ports derived from --port,
 * options parsed and bad ones refused, a role's log lines summarized, --help, a bad option, and
 * a missing binary named with its apt package.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describePorts,
  parseStackArgs,
  stackPorts,
  summarizeLogLine,
} from '../../scripts/lib/index.ts';
import { tempDir } from '../support/services.ts';
import { dirs, runStack } from './runs.ts';

/** Defines the cases. */
export function optionCases(): void {
  describe('npm run stack: options', () => {
    it('derives every port from --port (defaults: gateway 8080, workers 8001…, CDP 9222…)', () => {
      expect(stackPorts(8080, 2)).toEqual({
        ...{ gateway: 8080, workers: [8001, 8002], cdp: [9222, 9223] },
        ...{ emulator: 8443, postgres: 5433, redis: 6380 },
      });
      const shifted = stackPorts(40_000, 3);
      expect(shifted.workers).toEqual([39_921, 39_922, 39_923]);
      const ports = describePorts(shifted, false).map((p) => p.port);
      expect(new Set(ports).size).toBe(ports.length);
    });

    it('parses options and rejects bad ones', () => {
      const context = { cwd: '/x', defaultDir: '/x/.stack', display: ':0' };
      const args = ['--workers', '3', '--port', '9000', '--dir', 'st'];
      expect(parseStackArgs(args, context)).toMatchObject({
        kind: 'run',
        options: { workers: 3, port: 9000, dir: '/x/st', real: false, display: null },
      });
      expect(parseStackArgs(['--real'], context)).toMatchObject({
        options: { real: true, display: ':0', dir: '/x/.stack', workers: 2, port: 8080 },
      });
      expect(parseStackArgs(['-h'], context)).toEqual({ kind: 'help' });
      expect(() => parseStackArgs(['--workers', '0'], context)).toThrow(/--workers/);
      expect(() => parseStackArgs(['--port', '80'], context)).toThrow(/--port must be between/);
      expect(() => parseStackArgs(['--bogus'], context)).toThrow(/bogus/);
    });

    it("shows a role's warnings, errors and non-JSON lines, not its info lines", () => {
      const json = (o: object) => JSON.stringify(o);
      expect(summarizeLogLine('worker1', json({ level: 'info', message: 'listening' }))).toBeNull();
      const warn = json({ level: 'warn', message: 'no keys' });
      expect(summarizeLogLine('worker1', warn)).toBe('[worker1] warn: no keys');
      const error = json({ level: 'error', message: 'boom', err: { message: 'x' } });
      expect(summarizeLogLine('gateway', error)).toBe('[gateway] error: boom (x)');
      expect(summarizeLogLine('worker2', 'TypeError: y')).toBe('[worker2] TypeError: y');
    });
  });

  describe('npm run stack: command line', () => {
    it('--help prints the usage and exits 0; a bad option exits 2', async () => {
      const help = runStack(['--help']);
      expect(await help.exitCode()).toBe(0);
      expect(help.output()).toMatch(/Usage: npm run stack[\s\S]*--workers N[\s\S]*--real/);
      const bad = runStack(['--workers', 'many']);
      expect(await bad.exitCode()).toBe(2);
      expect(bad.output()).toMatch(/--workers must be a whole number/);
    });

    it('a missing binary exits 1 naming its apt package, and starts nothing', async () => {
      const dir = path.join(tempDir('stack-missing'), 'state');
      dirs.push(path.dirname(dir));
      const run = runStack(['--dir', dir, '--chromium', '/nonexistent/chromium']);
      expect(await run.exitCode()).toBe(1);
      expect(run.output()).toMatch(/chromium \(Debian package chromium\)/);
      expect(run.output()).toMatch(/apt-get install -y --no-install-recommends chromium/);
      expect(fs.existsSync(dir)).toBe(false);
    });
  });
}
