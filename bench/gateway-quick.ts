/**
 * A quick loop over the gateway's own request path, for profiling a change in seconds rather than
 * the minutes `npm run bench -- gateway` takes: a stand-in worker in this process answers every
 * POST at once with a small chat completion, registered as the only node; the same requests go
 * straight to it, through the bare Node proxy, through this checkout's built gateway and (with
 * `--baseline DIR`) the baseline's, interleaved. It prints p50/p99 and the added p50 of each, and
 * the CPU per request (user + sys, idle burn taken out) of each proxy. Not the figures
 * (those need the real worker and nginx, `npm run bench -- gateway`); a fast before/after.
 *
 * `npm run build && node --import tsx bench/gateway-quick.ts [--baseline DIR] [--profile]`
 * (ROUNDS=n sets the rounds, 1500 by default; `--profile` writes bench/out/gateway-quick.*)
 */
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../e2e/support/services.ts';
import { startScript } from './gateway-streams.ts';
import {
  BENCH_HEADERS,
  enableProfiling,
  profilePath,
  startRole,
  startServices,
} from './harness.ts';
import { reportProfile } from './profile-report.ts';
import { waitEligible } from './gateway-wait.ts';
import { cpuMsOf, summarize } from './stats.ts';

const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baselineRoot = baselineAt >= 0 ? args[baselineAt + 1] : undefined;
const ROUNDS = Number(process.env['ROUNDS'] ?? 1500);
const WARMUP = 200;
const IDLE_MS = 3000;
if (args.includes('--profile')) {
  enableProfiling(path.resolve(import.meta.dirname, 'out'));
}

const ANSWER = JSON.stringify({
  id: 'chatcmpl-quick',
  object: 'chat.completion',
  created: 1,
  model: 'gemini-2.5-flash',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'An answer of a few words, as the emulator gives.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14 },
});

/** The stand-in worker: every POST answered at once, as a worker answers a chat. */
async function startStandIn(): Promise<{ url: string; close(): void }> {
  let conversation = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.once('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'x-upstream-sent': 'true',
        'x-conversation-id': `c_quick_${(conversation += 1)}`,
      });
      res.end(ANSWER);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Registers `nodeUrl` as the only live node and keeps its heartbeat fresh until stopped. */
async function registerOnly(databaseUrl: string, nodeUrl: string): Promise<() => Promise<void>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  await pool.query('delete from gemini_service_nodes');
  await pool.query(
    `insert into gemini_service_nodes (node_url, worker_id, weight, status, last_heartbeat,
       created_at, dispatched_tasks, current_tasks, account, login_state, version, models,
       queue_waiting)
     values ($1, 'quick', 1, 'HEALTHY', now(), now(), 0, 0, 'quick', 'logged_in', 'bench', '{}', 0)`,
    [nodeUrl],
  );
  const beat = setInterval(() => {
    void pool.query('update gemini_service_nodes set last_heartbeat = now()').catch(() => {});
  }, 1000);
  return async () => {
    clearInterval(beat);
    await pool.end();
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One non-streamed chat over node:http (keep-alive); resolves to its time in ms. */
function post(base: string, i: number): Promise<number> {
  const body = JSON.stringify({
    model: 'gemini-2.5-flash',
    messages: [{ role: 'user', content: `quick ${i}` }],
  });
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/v1/chat/completions`, {
      method: 'POST',
      agent,
      headers: { ...BENCH_HEADERS, 'content-length': Buffer.byteLength(body) },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`${base} answered ${res.statusCode}`));
      }
      res.resume();
      res.once('end', () => resolve(performance.now() - start));
    });
    req.end(body);
  });
}

const standIn = await startStandIn();
const services = await startServices();
let unregister = async (): Promise<void> => {};
const env = async () => ({ DATABASE_URL: services.pg.url, PORT: String(await freePort()) });
const proxies: { name: string; url: string; pid: number; stop(): Promise<void> }[] = [];
try {
  const gateway = await startRole('gateway', await env(), { profileAs: 'gateway-quick' });
  proxies.push({ name: 'gateway', ...gateway });
  if (baselineRoot) {
    const baseline = await startRole('gateway', await env(), { root: baselineRoot });
    proxies.push({ name: 'baseline', ...baseline });
  }
  // After a gateway started: it made the registry's tables.
  unregister = await registerOnly(services.pg.url, standIn.url);
  const bare = await startScript('bare-proxy.ts', [standIn.url]);
  proxies.push({ name: 'bare Node proxy', ...bare });
  const bareDispatch = await startScript('bare-proxy.ts', [standIn.url, '--dispatch']);
  proxies.push({ name: 'bare dispatch', ...bareDispatch });
  for (const p of proxies.filter((x) => !x.name.startsWith('bare'))) {
    await waitEligible(p);
  }
  const targets: Record<string, string> = { direct: standIn.url };
  proxies.forEach((p) => (targets[p.name] = p.url));
  for (let i = 0; i < WARMUP; i += 1) {
    for (const base of Object.values(targets)) {
      await post(base, i);
    }
  }
  const idleFrom = proxies.map((p) => cpuMsOf(p.pid));
  await sleep(IDLE_MS);
  const idlePerMs = proxies.map((p, i) => (cpuMsOf(p.pid) - idleFrom[i]!) / IDLE_MS);
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(targets).map((k) => [k, []]),
  );
  const cpuFrom = proxies.map((p) => cpuMsOf(p.pid));
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i += 1) {
    for (const [name, base] of Object.entries(targets)) {
      times[name]!.push(await post(base, i));
    }
  }
  const elapsed = performance.now() - start;
  const direct = summarize(times['direct']!).p50;
  for (const [name, samples] of Object.entries(times)) {
    const s = summarize(samples);
    process.stdout.write(
      `${name.padEnd(16)} p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms  added p50 ${(s.p50 - direct).toFixed(3)} ms\n`,
    );
  }
  proxies.forEach((p, i) => {
    const cpu = (cpuMsOf(p.pid) - cpuFrom[i]! - idlePerMs[i]! * elapsed) / ROUNDS;
    process.stdout.write(
      `${p.name.padEnd(16)} CPU per request ${cpu.toFixed(3)} ms (idle burn ${(idlePerMs[i]! * 1000).toFixed(1)} ms/s taken out)\n`,
    );
  });
} finally {
  for (const p of proxies) {
    await p.stop();
  }
  await unregister();
  await services.close();
  standIn.close();
}
const profile = profilePath('gateway-quick');
if (profile) {
  reportProfile(profile, ROUNDS + WARMUP);
}
process.exit(0);
