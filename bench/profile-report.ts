/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and writes what a reader needs to find the hot path:
 * a folded-stacks file (`<name>.folded`, for speedscope or flamegraph.pl; the `.cpuprofile` itself
 * opens in Chrome DevTools and speedscope) and a text summary of the busiest functions, by self
 * time and by inclusive time, and by package.
 */
import fs from 'node:fs';
import { printLine } from './stats.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Not work: the event loop waiting, or V8's own bookkeeping outside any JS frame. */
const IDLE = new Set(['(idle)', '(root)']);

function label(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/');
  const where = file ? ` ${file}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

/** The package a frame belongs to: a node_modules package, our bundle, or node itself. */
function packageOf(frame: CallFrame): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (m) {
    return m[1]!;
  }
  if (frame.url.includes('/dist/')) {
    return 'gemini-kasm (dist)';
  }
  if (frame.url.startsWith('node:')) {
    return 'node';
  }
  return frame.url ? 'other' : frame.functionName || '(native)';
}

function top(map: Map<string, number>, n: number, totalMs: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(
      ([k, us]) =>
        `${(us / 1000).toFixed(1).padStart(9)} ms ${((us / 1000 / totalMs) * 100).toFixed(1).padStart(5)}%  ${k}`,
    );
}

const add = (map: Map<string, number>, key: string, us: number): void => {
  map.set(key, (map.get(key) ?? 0) + us);
};

/** Writes `<profile minus .cpuprofile>.folded` and `.txt`; prints the top of the summary. */
export function reportProfile(file: string, requests: number, shown = 12): void {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const packages = new Map<string, number>();
  const folded = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) {
      continue;
    }
    busyUs += us;
    add(self, label(node.callFrame), us);
    add(packages, packageOf(node.callFrame), us);
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName;
      if (name !== '(root)') {
        stack.push(label(byId.get(at)!.callFrame));
      }
    }
    for (const name of new Set(stack)) {
      add(inclusive, name, us);
    }
    add(folded, stack.reverse().join(';'), us);
  }
  const base = file.replace(/\.cpuprofile$/, '');
  fs.writeFileSync(
    `${base}.folded`,
    [...folded.entries()].map(([stack, us]) => `${stack} ${Math.round(us)}`).join('\n') + '\n',
  );
  const busyMs = busyUs / 1000;
  const lines = [
    `CPU profile ${file}: ${busyMs.toFixed(0)} ms busy over ${requests} requests (${(busyMs / requests).toFixed(2)} ms each, profiler overhead included)`,
    '\nby package (self time):',
    ...top(packages, shown, busyMs),
    '\nby function, self time:',
    ...top(self, shown * 2, busyMs),
    '\nby function, inclusive time:',
    ...top(inclusive, shown * 2, busyMs),
  ];
  fs.writeFileSync(`${base}.txt`, `${lines.join('\n')}\n`);
  printLine(`\n${lines.slice(0, 2 + shown + 2 + shown).join('\n')}`);
  printLine(
    `  (whole summary: ${base}.txt; flame graph: ${base}.folded or the .cpuprofile in speedscope)`,
  );
}
