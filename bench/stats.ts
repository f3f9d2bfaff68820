/**
 * Small statistics for the benchmarks: percentiles and a printed row.
 */
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
