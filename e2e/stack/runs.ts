/**
 * What the cases of e2e/stack.test.ts share: stacks started as child processes and everything
 * they started (killed after the suite should a case fail half-way), a PATH without PostgreSQL,
 * and one plain, one streamed and one image chat through the gateway.
 */
import fs from 'node:fs';
import path from 'node:path';
import OpenAI from 'openai';
import { expect } from 'vitest';
import { spawnStack, type StackChild } from '../../scripts/lib/index.ts';
import {
  commandLine,
  descendantPids,
  isAlive,
  processesMentioning,
  type ProcessId,
} from '../../scripts/lib/process-tree.ts';
import { onPath } from '../../scripts/lib/binaries.ts';
import { tempDir } from '../support/services.ts';

/** Every stack a case started. */
export const runs: StackChild[] = [];
/** Directories to remove after the suite. */
export const dirs: string[] = [];
/** Every process a stack started, for the clean-up should a test fail half-way. */
export const seen: ProcessId[] = [];

/** Starts `npm run stack` (or the script itself) with `args`, kept for the clean-up. */
export function runStack(
  args: readonly string[],
  viaNpm = false,
  env: Record<string, string> = {},
): StackChild {
  const run = spawnStack(args, {
    env: { API_KEYS: '', ADMIN_API_KEYS: '', DEBUG: '', ...env },
    viaNpm,
  });
  runs.push(run);
  return run;
}

/**
 * A PATH as on a bare machine where apt brought only Redis and Chromium: node, redis-server and
 * chromium, and no PostgreSQL program at all (no initdb, postgres, psql, pg_ctl).
 */
export function pathWithoutPostgres(): string {
  const bin = tempDir('stack-path');
  dirs.push(bin);
  for (const program of ['node', 'redis-server', 'chromium']) {
    const target = program === 'node' ? process.execPath : onPath(program);
    expect(target, program).not.toBeNull();
    fs.symlinkSync(target!, path.join(bin, program));
  }
  expect(fs.readdirSync(bin).filter((p) => /^(postgres|initdb|pg_ctl|psql)$/.test(p))).toEqual([]);
  return bin;
}

/** The stack's descendants plus anything naming its directory (Chromium's crash handlers). */
export async function stackProcesses(run: StackChild, dir: string): Promise<ProcessId[]> {
  const all = [
    ...(await descendantPids(run.process.pid ?? -1)),
    ...(await processesMentioning(dir)),
  ];
  seen.push(...all);
  return all;
}

/** The command lines of those still alive: [] when nothing is left. */
export function leftovers(ids: readonly (ProcessId | null)[]): string[] {
  return ids.filter((p): p is ProcessId => p !== null && isAlive(p)).map(commandLine);
}

/** One plain and one streamed chat through the gateway; the emulator echoes each prompt. */
export async function chatThroughGateway(port: number, apiKey: string): Promise<void> {
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
  const prompt = `stack plain ${Date.now()}`;
  const messages = [{ role: 'user' as const, content: prompt }];
  const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages });
  expect(completion.choices[0]?.message.content).toContain(prompt);
  expect(completion.choices[0]?.finish_reason).toBe('stop');

  const streamed = `stack streamed ${Date.now()}`;
  const stream = await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: streamed }],
    stream: true,
  });
  let text = '';
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  expect(text).toContain(streamed);
  expect(finish).toBe('stop');

  // A generated image is linked through the gateway, which finds the worker that holds it.
  const drawn = await client.chat.completions.create({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: 'please draw a harbour at dusk' }],
  });
  const link = /\]\((http:\/\/[^)]+\/images\/[^)]+)\)/.exec(
    drawn.choices[0]?.message.content ?? '',
  )?.[1];
  expect(link?.startsWith(`http://127.0.0.1:${port}/images/`)).toBe(true);
  const image = await fetch(link!, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(image.status).toBe(200);
  expect(
    Buffer.from(await image.arrayBuffer())
      .subarray(1, 4)
      .toString('latin1'),
  ).toBe('PNG');
  const missing = await fetch(`http://127.0.0.1:${port}/images/202601/20260101/none.png`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(missing.status).toBe(404);
  // Images belong to keys: without one the gateway refuses before asking any worker.
  expect((await fetch(link!)).status).toBe(401);
}

/** Kills what a failed case left running and removes its directories. */
export async function cleanUpStacks(): Promise<void> {
  for (const run of runs.filter((r) => r.process.exitCode === null && !r.process.signalCode)) {
    run.signal('SIGKILL');
  }
  seen.filter(isAlive).forEach((id) => process.kill(id.pid, 'SIGKILL'));
  dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
}
