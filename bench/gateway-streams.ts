/**
 * Issue 16's scale figure for the gateway: one gateway process (the built dist/) holding 1 000
 * concurrent slow streams. A stand-in worker (slow-upstream.ts) answers every request with a
 * stream of stamped chunks; the same 1 000 streams are read straight from it and through the
 * gateway, and each chunk's delay (arrival minus its stamp) is compared. The gateway's RSS is
 * sampled throughout.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../e2e/support/services.ts';
import { BENCH_HEADERS, type ChildService, type Services } from './harness.ts';
import { printLine, printRow, record, summarize, type Summary } from './stats.ts';

/** How many streams the gateway holds at once. */
export const STREAMS = 1000;
const CHUNKS = 12;
const INTERVAL_MS = 1000;
/**
 * The streams open over this long (a thousand requests in one second would measure the burst of
 * openings, not the holding); only chunks written once every stream is open are counted.
 */
const RAMP_MS = 5000;
const NODE_URL_ACCOUNT = 'bench-slow-upstream';

const epochMs = (): number => performance.timeOrigin + performance.now();

/** Runs a bench script (`node --import tsx bench/<script> <args>`) until it prints "ready". */
export async function startScript(
  script: string,
  args: readonly string[],
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, script), String(port), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout, 'data');
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Keep-alive sockets without a cap: every stream holds one. */
const clientAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * Reads one stream over node:http (fetch's web streams cost the client more than the gateway);
 * returns each chunk's delay (arrival minus its stamp), for chunks stamped after `countFrom`.
 */
function readStream(base: string, i: number, countFrom: number): Promise<number[]> {
  const body = JSON.stringify({
    model: 'gemini-2.5-flash',
    stream: true,
    messages: [{ role: 'user', content: `slow stream ${i}` }],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/chat/completions`, {
      method: 'POST',
      agent: clientAgent,
      headers: { ...BENCH_HEADERS, 'content-length': Buffer.byteLength(body) },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${base} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      const delays: number[] = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        const arrived = epochMs();
        for (const m of text.matchAll(/"t":([\d.]+)/g)) {
          const stamp = Number(m[1]);
          if (stamp >= countFrom) {
            delays.push(arrived - stamp);
          }
        }
      });
      res.once('end', () => resolve(delays));
      res.once('error', reject);
    });
    req.end(body);
  });
}

/**
 * All the streams at once, their starts spread over one interval so that their chunks are too
 * (a thousand chunks written in the same millisecond would measure the burst, not the relay).
 */
async function holdStreams(base: string): Promise<number[]> {
  const countFrom = epochMs() + RAMP_MS + INTERVAL_MS;
  const all = await Promise.all(
    Array.from({ length: STREAMS }, async (_, i) => {
      await sleep((i * RAMP_MS) / STREAMS);
      return readStream(base, i, countFrom);
    }),
  );
  const delays = all.flat();
  if (delays.length < STREAMS) {
    throw new Error(`${base}: only ${delays.length} chunks arrived with every stream open`);
  }
  return delays;
}

/** Registers the stand-in as the only live node, its heartbeat kept fresh until the returned stop. */
async function registerOnly(databaseUrl: string, nodeUrl: string): Promise<() => Promise<void>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query('delete from gemini_service_nodes');
  await pool.query(
    `insert into gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
       created_at, dispatched_tasks, current_tasks, account, login_state, version, models,
       queue_waiting)
     values ($1, $2, 1, 'HEALTHY', now(), now(), 0, 0, $2, 'logged_in', 'bench', '{}', 0)`,
    [nodeUrl, NODE_URL_ACCOUNT],
  );
  const beat = setInterval(() => {
    void pool.query('update gemini_service_nodes set last_heartbeat = now()').catch(() => {});
  }, 1000);
  return async () => {
    clearInterval(beat);
    await pool.query('delete from gemini_service_nodes where node_url = $1', [nodeUrl]);
    await pool.end();
  };
}

/** A gateway to measure, and the name its rows carry ("gateway", "gateway (baseline)"). */
export interface NamedGateway {
  readonly name: string;
  readonly service: ChildService;
}

/**
 * 1 000 slow streams straight to the stand-in, then through each gateway (whose registry is then
 * left holding the stand-in only: call it after the other gateway measures).
 */
export async function benchGatewayStreams(
  gateways: readonly NamedGateway[],
  services: Services,
  waitEligible: (g: ChildService, only: string) => Promise<void>,
): Promise<void> {
  const upstream = await startScript('slow-upstream.ts', [String(CHUNKS), String(INTERVAL_MS)]);
  const unregister = await registerOnly(services.pg.url, upstream.url);
  try {
    for (const g of gateways) {
      await waitEligible(g.service, upstream.url);
      await Promise.all(Array.from({ length: 20 }, (_, i) => readStream(g.service.url, i, 0)));
    }
    const direct = summarize(await holdStreams(upstream.url));
    printLine(
      `\n${STREAMS} concurrent slow streams (${CHUNKS} chunks, one per ${INTERVAL_MS} ms, opened over ${RAMP_MS} ms), delay of each chunk once all are open`,
    );
    printRow('straight from the stand-in worker', direct);
    for (const g of gateways) {
      await holdThrough(g, direct);
    }
  } finally {
    await unregister();
    await upstream.stop();
  }
}

async function holdThrough(g: NamedGateway, direct: Summary): Promise<void> {
  const idleMiB = g.service.rssMiB();
  let peakMiB = idleMiB;
  const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, g.service.rssMiB())), 100);
  const through = summarize(await holdStreams(g.service.url).finally(() => clearInterval(sampler)));
  const perStreamKiB = ((peakMiB - idleMiB) * 1024) / STREAMS;
  printRow(`through the ${g.name}`, through);
  printLine(
    `  ${g.name} RSS idle ${idleMiB.toFixed(1)} MiB, peak ${peakMiB.toFixed(1)} MiB, growth ${perStreamKiB.toFixed(1)} KiB per stream`,
  );
  record({
    measure: `${g.name} RSS holding ${STREAMS} slow streams`,
    target: '< 300 MB',
    measured: `${peakMiB.toFixed(1)} MiB`,
    pass: peakMiB * 1.048576 < 300,
  });
  record({
    measure: `${g.name} p99 added latency, ${STREAMS} slow streams`,
    target: '< 20 ms',
    measured: `${(through.p99 - direct.p99).toFixed(2)} ms`,
    pass: through.p99 - direct.p99 < 20,
  });
  record({
    measure: `${g.name} RSS growth per stream`,
    target: '-',
    measured: `${perStreamKiB.toFixed(1)} KiB`,
    pass: null,
  });
}
