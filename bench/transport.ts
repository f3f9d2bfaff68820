/**
 * Issue 15's figures: the same turns sent by the node transport (undici, cookies read from
 * Chrome) and by the page transport (the signed-in tab's fetch, streamed back over CDP), one
 * after the other on one account. First-token time, the gap between text frames, and CPU per
 * turn in this process and in Chromium.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BrowserSession, createPageTransport, LiveCookieSource } from '../src/browser/index.ts';
import { GeminiClient, createHttpClient, findModel } from '../src/gemini/index.ts';
import { createLogger } from '../src/logging.ts';
import { personSignIn } from '../e2e/support/person.ts';
import { startChromium, tempDir } from '../e2e/support/services.ts';
import type { BenchEmulator } from './remote-emulator.ts';
import { printLine, printRow, since, summarize } from './stats.ts';

const MODEL = findModel('gemini-2.5-flash')!;
const TICK_MS = 10; // Linux USER_HZ is 100

interface Turn {
  firstToken: number;
  gaps: number[];
  total: number;
  nodeCpuMs: number;
  chromeCpuMs: number;
}

/** CPU time (ms) so far of every process of the Chromium on `userDataDir`. */
function chromeCpuMs(userDataDir: string): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(userDataDir)) {
        continue;
      }
      // Fields after the parenthesised name: utime and stime are the 12th and 13th.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks * TICK_MS;
}

async function turn(client: GeminiClient, prompt: string, userDataDir: string): Promise<Turn> {
  const cpu = process.cpuUsage();
  const chrome = chromeCpuMs(userDataDir);
  const start = performance.now();
  const arrivals: number[] = [];
  for await (const ev of client.generate({ prompt, model: MODEL })) {
    if (ev.type === 'text') {
      arrivals.push(since(start));
    }
  }
  const total = since(start);
  const used = process.cpuUsage(cpu);
  return {
    firstToken: arrivals[0] ?? total,
    gaps: arrivals.slice(1).map((t, i) => t - arrivals[i]!),
    total,
    nodeCpuMs: (used.user + used.system) / 1000,
    chromeCpuMs: chromeCpuMs(userDataDir) - chrome,
  };
}

async function runs(
  clients: Record<'node' | 'page', GeminiClient>,
  n: number,
  tag: string,
  userDataDir: string,
): Promise<Record<'node' | 'page', Turn[]>> {
  const out: Record<'node' | 'page', Turn[]> = { node: [], page: [] };
  for (let i = 0; i < n; i += 1) {
    // Alternating keeps drift (a busy machine, a warm cache) out of the difference.
    for (const kind of ['node', 'page'] as const) {
      out[kind].push(await turn(clients[kind], `${tag} ${kind} ${i} transport bench`, userDataDir));
    }
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export async function benchTransport(emulator: BenchEmulator): Promise<void> {
  const chrome = await startChromium({ hostResolverRules: emulator.hostResolverRules() });
  const logger = createLogger({ silent: true });
  const session = new BrowserSession({ cdpUrl: chrome.url, keepAliveIntervalMs: 600_000, logger });
  const cacheFile = path.join(tempDir('bench-transport'), 'cookie_cache.json');
  try {
    await personSignIn(chrome.url, 'bench-transport@example.com');
    await session.connect();
    const cookies = await LiveCookieSource.create({ session, cacheFile, cacheMs: 5000, logger });
    const http = createHttpClient({ hostResolverRules: emulator.hostResolverRules() });
    const base = { http, cookies, logger, stallTimeoutMs: 30_000 };
    const clients = {
      node: new GeminiClient(base),
      page: new GeminiClient({ ...base, transport: createPageTransport(session) }),
    };
    await emulator.setOptions({ chunkDelayMs: 0 });
    await runs(clients, 3, 'warm', chrome.userDataDir);
    const fast = await runs(clients, 40, 'fast', chrome.userDataDir);
    await emulator.setOptions({ chunkDelayMs: 20 });
    const paced = await runs(clients, 15, 'paced', chrome.userDataDir);

    printLine('\nTransport: node (undici + copied cookies) vs page (the tab fetch over CDP)');
    for (const kind of ['node', 'page'] as const) {
      printRow(
        `${kind}: first token (emulator, no delay)`,
        summarize(fast[kind].map((t) => t.firstToken)),
      );
    }
    for (const kind of ['node', 'page'] as const) {
      printRow(
        `${kind}: gap between text frames (20 ms apart)`,
        summarize(paced[kind].flatMap((t) => t.gaps)),
      );
    }
    for (const kind of ['node', 'page'] as const) {
      printRow(`${kind}: whole turn (20 ms frames)`, summarize(paced[kind].map((t) => t.total)));
    }
    for (const kind of ['node', 'page'] as const) {
      const frames = mean(fast[kind].map((t) => t.gaps.length + 1));
      printLine(
        `  ${kind}: CPU per turn ${mean(fast[kind].map((t) => t.nodeCpuMs)).toFixed(2)} ms in this process, ` +
          `${mean(fast[kind].map((t) => t.chromeCpuMs)).toFixed(1)} ms in Chromium (±${TICK_MS} ms ticks; ${frames.toFixed(1)} text frames)`,
      );
    }
    const p50 = (turns: Turn[], pick: (t: Turn) => number[]) => summarize(turns.flatMap(pick)).p50;
    const firstToken = (t: Turn) => [t.firstToken];
    const gaps = (t: Turn) => t.gaps;
    printLine(
      `  page - node at p50: first token ${(p50(fast.page, firstToken) - p50(fast.node, firstToken)).toFixed(2)} ms, ` +
        `frame gap ${(p50(paced.page, gaps) - p50(paced.node, gaps)).toFixed(2)} ms ` +
        "(the cost is in the head: Chrome's own fetch path, not the per-chunk CDP hop)",
    );
  } finally {
    await session.close();
    await chrome.stop();
  }
}
