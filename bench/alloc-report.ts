/**
 * `npm run bench -- --alloc`: reads what bench/alloc-probe.ts wrote for a child (bytes allocated
 * over a window of requests, and a sampling heap profile of where) and prints the bytes per request
 * and the biggest allocators, by allocating frame and by the nearest frame of our own bundle.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AllocWindow } from './alloc-probe.ts';
import { printLine, summarize } from './stats.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface SampledNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly SampledNode[];
}

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');
  const where = file ? ` ${file}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function add(map: Map<string, number>, key: string, bytes: number): void {
  map.set(key, (map.get(key) ?? 0) + bytes);
}

/** Per allocating frame, and per the innermost frame of our bundle (dist/) on the stack. */
function attribute(root: SampledNode): { self: Map<string, number>; ours: Map<string, number> } {
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  const walk = (node: SampledNode, owner: string): void => {
    const here = node.callFrame.url.includes('/dist/') ? label(node.callFrame) : owner;
    if (node.selfSize > 0) {
      add(self, label(node.callFrame), node.selfSize);
      add(ours, here, node.selfSize);
    }
    node.children.forEach((c) => walk(c, here));
  };
  walk(root, '(outside our bundle)');
  return { self, ours };
}

function top(map: Map<string, number>, n: number, requests: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, bytes]) => `${(bytes / requests / 1024).toFixed(1).padStart(8)} KB/req  ${k}`);
}

/** Waits for the probe's files after the closing signal. */
export async function readAllocWindow(file: string): Promise<AllocWindow> {
  for (let i = 0; i < 100 && !fs.existsSync(`${file}.json`); i += 1) {
    await sleep(100);
  }
  return JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as AllocWindow;
}

/** Prints the top allocators of a sampling heap profile, in KB per request. */
export function reportAllocators(file: string, requests: number, n = 15): void {
  const profile = JSON.parse(fs.readFileSync(`${file}.heapprofile`, 'utf8')) as {
    head: SampledNode;
  };
  const { self, ours } = attribute(profile.head);
  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  printLine(
    `  sampled: ${(sampled / requests / 1024).toFixed(1)} KB/request (${file}.heapprofile)`,
  );
  printLine('  by allocating frame:');
  top(self, n, requests).forEach((l) => printLine(`    ${l}`));
  printLine('  by the innermost frame of our bundle:');
  top(ours, n, requests).forEach((l) => printLine(`    ${l}`));
}

/**
 * The young-generation collections of the window: how often, how long, and what they promoted.
 * Each pause stops the request it lands in, so when one comes every few dozen requests its
 * length is what the p99 shows.
 */
export function youngGenerationLine(w: AllocWindow, requests: number): string {
  const n = w.scavengePausesMs.length;
  if (n === 0) {
    return '  young-generation collections: none in the window';
  }
  const pauses = summarize(w.scavengePausesMs);
  const every = (requests / n).toFixed(0);
  const promoted = (w.promotedBytes / n / 1024).toFixed(0);
  return `  young-generation collections: ${n}, one per ${every} requests, pause p50 ${pauses.p50.toFixed(1)} ms, max ${Math.max(...w.scavengePausesMs).toFixed(1)} ms, ${promoted} KB promoted each`;
}
