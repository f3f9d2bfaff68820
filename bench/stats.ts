/**
 * Small statistics for the benchmarks: percentiles, printed rows, the final PASS/MISS table, and
 * a child's CPU time from /proc.
 */
import fs from 'node:fs';
import os from 'node:os';

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) {
    return Number.NaN;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export interface Summary {
  p50: number;
  p99: number;
  n: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), n: samples.length };
}

const ms = (v: number) => `${v.toFixed(2)} ms`;

/** Prints "label  p50  p99  (n)". */
export function printRow(label: string, s: Summary): void {
  process.stdout.write(
    `  ${label.padEnd(44)} p50 ${ms(s.p50).padStart(10)}   p99 ${ms(s.p99).padStart(10)}   (n=${s.n})\n`,
  );
}

export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Milliseconds since `start` (from performance.now()). */
export const since = (start: number): number => performance.now() - start;

/** One line of the final table. `pass` null: no target to judge against (shown as "-"). */
export interface Verdict {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | null;
}

const verdicts: Verdict[] = [];

/** Adds a line to the table printed at the end of the run. */
export function record(verdict: Verdict): void {
  verdicts.push(verdict);
}

/** Prints every recorded measure with its target, its value and PASS/MISS. */
export function printTable(header: string): void {
  if (verdicts.length === 0) {
    return;
  }
  const width = (pick: (v: Verdict) => string, title: string): number =>
    Math.max(title.length, ...verdicts.map((v) => pick(v).length));
  const wm = width((v) => v.measure, 'measure');
  const wt = width((v) => v.target, 'target');
  const wv = width((v) => v.measured, 'measured');
  const line = (m: string, t: string, v: string, p: string): string =>
    `  ${m.padEnd(wm)}  ${t.padEnd(wt)}  ${v.padStart(wv)}  ${p}`;
  printLine(`\n${header}`);
  printLine(line('measure', 'target', 'measured', 'verdict'));
  for (const v of verdicts) {
    printLine(
      line(v.measure, v.target, v.measured, v.pass === null ? '-' : v.pass ? 'PASS' : 'MISS'),
    );
  }
}

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU time (user + sys, ms) a process has used so far, from /proc. */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** The 1, 5 and 15-minute load averages, for the record next to a measurement on a shared machine. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}
