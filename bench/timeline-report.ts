/**
 * `--timeline`: the p50 of each step the timeline probe stamped in a worker (bench/timeline-probe.ts),
 * streamed and not streamed apart, in the order of their p50s, with the step before it subtracted.
 */
import fs from 'node:fs';
import { printLine } from './stats.ts';
import type { TimelineRow } from './timeline-probe.ts';

const STEPS: readonly (readonly [string, string])[] = [
  ['bodyEnd', 'the request body has arrived'],
  ['claimSent', 'the line claim sent (parse, plan, checks)'],
  ['claimAnswered', 'the claim answered (one Redis round trip)'],
  ['upstreamCreated', 'the upstream request created (job start, admission, StreamGenerate)'],
  ['upstreamSent', 'its headers sent'],
  ['upstreamHeaders', "the upstream's response headers"],
  ['upstreamEnd', "the upstream's end"],
  ['ended', 'the response ended (its last write)'],
  ['finish', "the response's finish event (after work queued behind it)"],
];

function p50(values: number[]): number | null {
  const sorted = values.sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.floor(sorted.length / 2)]!;
}

/** What the gateway's steps are: its upstream is a worker, and it claims no line. */
export const GATEWAY_STEPS: Readonly<Record<string, string>> = {
  upstreamCreated: 'the request to the worker created (parse, key, route, node choice)',
  upstreamHeaders: "the worker's response headers",
  upstreamEnd: "the worker's end",
};

/**
 * Prints the timeline written under `file` (without extension) for the server `who`; `names`
 * overrides the worker's names of the steps.
 */
export function reportTimeline(
  who: string,
  file: string,
  names: Readonly<Record<string, string>> = {},
): void {
  if (!fs.existsSync(`${file}.json`)) {
    printLine(`\n${who} timeline: nothing written (${file}.json)`);
    return;
  }
  const all = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as TimelineRow[];
  for (const [mode, rows] of [
    ['not streamed', all.filter((r) => r['streamed'] === 0)],
    ['streamed', all.filter((r) => r['streamed'] === 1)],
  ] as const) {
    reportRows(`${who}, ${mode}`, rows, names);
  }
}

function reportRows(
  who: string,
  rows: TimelineRow[],
  names: Readonly<Record<string, string>>,
): void {
  printLine(
    `\n${who} timeline, p50 over ${rows.length} requests served one at a time (ms from its request event)`,
  );
  let previous: string | null = null;
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'streamed');
  const steps = keys
    .map((k) => [k, p50(rows.flatMap((r) => (r[k] === undefined ? [] : [r[k]])))] as const)
    .sort((a, b) => (a[1] ?? 0) - (b[1] ?? 0));
  for (const [step, at] of steps) {
    const what = names[step] ?? STEPS.find(([s]) => s === step)?.[1] ?? step;
    const gap = p50(
      rows.flatMap((r) => {
        const from = previous === null ? 0 : r[previous];
        return r[step] === undefined || from === undefined ? [] : [r[step] - from];
      }),
    );
    if (at !== null) {
      printLine(
        `  ${what.padEnd(72)} at ${at.toFixed(2).padStart(6)}  (+${(gap ?? 0).toFixed(2)})`,
      );
      previous = step;
    }
  }
}
