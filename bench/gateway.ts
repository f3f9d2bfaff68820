/**
 * Issues 5 and 16's gateway figures, side by side in one run: the same request sent straight to a
 * worker, through the gateway, and through nginx `proxy_pass` to the same worker (and through the
 * `--baseline` checkout's gateway when one is given); time to first token, streamed, through the
 * gateway and direct; throughput at a fixed concurrency; then 1 000 slow streams through one
 * gateway (gateway-streams.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchEmulator } from './remote-emulator.ts';
import { freePort } from '../e2e/support/services.ts';
import { STREAMS, benchGatewayStreams, type NamedGateway } from './gateway-streams.ts';
import { startNginx } from './nginx.ts';
import { recordFloors, startProxyFloors } from './proxy-floors.ts';
import { reportProfile } from './profile-report.ts';
import { GATEWAY_STEPS, reportTimeline } from './timeline-report.ts';
import {
  BENCH_HEADERS,
  baseline,
  probePath,
  profilePath,
  startBenchWorker,
  startRole,
  type Services,
} from './harness.ts';
import { waitEligible } from './gateway-wait.ts';
import { cpuMsOf, printLine, printRow, record, since, summarize } from './stats.ts';

const LATENCY_ROUNDS = 220;
const WARMUP = 20;
const CONCURRENCY = 8;
const IDLE_MS = 3000;

/** `f`, run at most once: later calls share the first call's promise. */
function onlyOnce(f: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= f());
}

/** One chat request; resolves to its whole time, or with `stream`, to the first content chunk. */
/** Earlier turns sent before each prompt, by target (a continuation); none by default. */
type Histories = Readonly<Record<string, readonly { role: string; content: string }[]>>;

async function chat(
  base: string,
  prompt: string,
  stream = false,
  history: readonly { role: string; content: string }[] = [],
): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify({
      model: 'gemini-2.5-flash',
      stream,
      messages: [...history, { role: 'user', content: prompt }],
    }),
  });
  if (!res.ok || !res.body) {
    throw new Error(`${base} answered ${res.status}`);
  }
  let firstToken: number | null = null;
  const decoder = new TextDecoder();
  for await (const bytes of res.body) {
    if (
      stream &&
      firstToken === null &&
      /"content":"[^"]/.test(decoder.decode(bytes as Uint8Array))
    ) {
      firstToken = since(start);
    }
  }
  return firstToken ?? since(start);
}

/** Requests per second each target answers at CONCURRENCY, in interleaved rounds. */
async function throughputs(targets: Record<string, string>): Promise<Record<string, number>> {
  const done: Record<string, number> = Object.fromEntries(Object.keys(targets).map((k) => [k, 0]));
  // Short rounds, interleaved: on a shared machine the load moves during a run.
  const roundMs = 1000;
  const rounds = 4;
  for (let r = 0; r < rounds; r += 1) {
    for (const [name, base] of Object.entries(targets)) {
      const end = performance.now() + roundMs;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, c) => {
          for (let i = 0; performance.now() < end; i += 1) {
            await chat(base, `throughput ${r}-${c}-${i}`);
            done[name]! += 1;
          }
        }),
      );
    }
  }
  return Object.fromEntries(
    Object.entries(done).map(([k, n]) => [k, (n / (roundMs * rounds)) * 1000]),
  );
}

/** p50/p99 of each target, requests interleaved so load hits every target alike. */
async function latencies(
  targets: Record<string, string>,
  stream: boolean,
  histories: Histories = {},
): Promise<Record<string, ReturnType<typeof summarize>>> {
  const out: Record<string, number[]> = Object.fromEntries(
    Object.keys(targets).map((k) => [k, []]),
  );
  const entries = Object.entries(targets);
  for (let i = 0; i < LATENCY_ROUNDS; i += 1) {
    // Each round starts at another target: the request that follows another's answer shares the
    // worker's CPU with that answer's after-work, which a fixed order would charge to one target.
    const round = [...entries.slice(i % entries.length), ...entries.slice(0, i % entries.length)];
    for (const [name, base] of round) {
      const ms = await chat(base, `gateway latency ${i}`, stream, histories[name]);
      if (i >= WARMUP) {
        out[name]!.push(ms);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, summarize(v)]));
}

/** A first turn through each target; the history its continuations send (bound to the worker). */
async function firstTurns(targets: Record<string, string>): Promise<Histories> {
  const out: Record<string, { role: string; content: string }[]> = {};
  for (const [name, base] of Object.entries(targets)) {
    const question = { role: 'user', content: `a first turn through ${name}` };
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: BENCH_HEADERS,
      body: JSON.stringify({ model: 'gemini-2.5-flash', messages: [question] }),
    });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    out[name] = [question, { role: 'assistant', content: body.choices[0]!.message.content }];
  }
  // The bindings are written behind, within 50 ms: a baseline without a cache reads them there.
  await sleep(500);
  return out;
}

export async function benchGateway(emulator: BenchEmulator, services: Services): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: 0 });
  const worker = await startBenchWorker(emulator, services, 'bench-gateway@example.com', {
    HEARTBEAT_INTERVAL_MS: '500',
  });
  const env = async () => ({ DATABASE_URL: services.pg.url, PORT: String(await freePort()) });
  const gateways: NamedGateway[] = [
    {
      name: 'gateway',
      service: await startRole('gateway', await env(), {
        profileAs: 'gateway',
        timelineAs: 'gateway',
      }),
    },
  ];
  const baselineRoot = baseline();
  if (baselineRoot) {
    const service = await startRole('gateway', await env(), { root: baselineRoot });
    gateways.push({ name: 'gateway (baseline)', service });
  }
  const nginx = await startNginx(Number(new URL(worker.url).port));
  const { floors, stop: stopFloors } = await startProxyFloors(worker.url);
  // Stopped before the slow streams, and again (harmlessly) on the way out.
  const stopNginx = onlyOnce(async () => nginx?.stop());
  const stopWorker = onlyOnce(() => worker.stop());
  let gatewayRequests = LATENCY_ROUNDS * 2;
  try {
    for (const g of gateways) {
      await waitEligible(g.service);
    }
    const targets: Record<string, string> = { direct: worker.url };
    gateways.forEach((g) => (targets[g.name] = g.service.url));
    if (nginx) {
      targets['nginx'] = nginx.url;
    }
    floors.forEach((f) => (targets[f.name] = f.url));
    // What a gateway burns idle (registry reads, timers) is taken out of its CPU per request.
    // The floors' is measured alike: what the gateway's figure stands on.
    const pids = [...gateways.map((g) => g.service.pid), ...floors.map((f) => f.pid)];
    const idleFrom = pids.map(cpuMsOf);
    await sleep(IDLE_MS);
    const idlePerMs = pids.map((pid, i) => (cpuMsOf(pid) - idleFrom[i]!) / IDLE_MS);
    const cpuBefore = pids.map(cpuMsOf);
    const phaseStart = performance.now();
    const s = await latencies(targets, false);
    const phaseMs = since(phaseStart);
    // Every round sends LATENCY_ROUNDS requests through each target (WARMUP of them unmeasured).
    const cpu = pids.map(
      (pid, i) => (cpuMsOf(pid) - cpuBefore[i]! - idlePerMs[i]! * phaseMs) / LATENCY_ROUNDS,
    );
    printLine('\nGateway vs direct vs nginx proxy_pass (non-streaming, same worker)');
    Object.entries(s).forEach(([name, summary]) => printRow(name, summary));
    const added = (name: string): number => s[name]!.p50 - s['direct']!.p50;
    gateways.forEach((g, i) => {
      printLine(
        `  ${g.name} CPU per request (user + sys, idle burn of ${(idlePerMs[i]! * 1000).toFixed(0)} ms/s taken out): ${cpu[i]!.toFixed(2)} ms`,
      );
      record({
        measure: `${g.name} CPU per request (user+sys)`,
        target: '-',
        measured: `${cpu[i]!.toFixed(2)} ms`,
        pass: null,
      });
      if (nginx) {
        const diff = added(g.name) - added('nginx');
        printLine(
          `  added at p50: ${g.name} ${added(g.name).toFixed(2)} ms, nginx ${added('nginx').toFixed(2)} ms, difference ${diff.toFixed(2)} ms   (target: <= nginx + 1 ms)`,
        );
        record({
          measure: `${g.name} added p50 minus nginx added p50`,
          target: '<= 1 ms',
          measured: `${diff.toFixed(2)} ms`,
          pass: diff <= 1,
        });
      }
    });
    if (nginx) {
      // No target: how much of the gateway's figure is Node's, not ours.
      const overNginx = (name: string): number => added(name) - added('nginx');
      recordFloors(floors, overNginx, cpu.slice(gateways.length));
    } else {
      printLine('  (nginx not installed: apt-get install nginx-light)');
    }
    floors.forEach((f) => delete targets[f.name]);
    const streamTargets = Object.fromEntries(
      Object.entries(targets).filter(([k]) => k !== 'nginx'),
    );
    const ttft = await latencies(streamTargets, true);
    printLine('\nTime to first token (streamed, same worker)');
    Object.entries(ttft).forEach(([name, summary]) => printRow(name, summary));
    for (const g of gateways) {
      const diff = ttft[g.name]!.p50 - ttft['direct']!.p50;
      record({
        measure: `${g.name} time to first token minus direct, p50`,
        target: '<= 10 ms',
        measured: `${diff.toFixed(2)} ms`,
        pass: diff <= 10,
      });
    }
    const cont = await latencies(streamTargets, false, await firstTurns(streamTargets));
    printLine('\nA continuation (an earlier answer in the history, bound by the first turn)');
    Object.entries(cont).forEach(([name, summary]) => printRow(name, summary));
    for (const g of gateways) {
      const diff = cont[g.name]!.p50 - cont['direct']!.p50;
      printLine(`  ${g.name} added at p50: ${diff.toFixed(2)} ms`);
      record({
        measure: `${g.name} continuation added p50 (binding lookup)`,
        target: '-',
        measured: `${diff.toFixed(2)} ms`,
        pass: null,
      });
    }
    const rps = await throughputs(targets);
    printLine(
      `\nThroughput at concurrency ${CONCURRENCY} (one account: its queue runs one generation at a time)`,
    );
    printLine(
      `  ${Object.entries(rps)
        .map(([k, v]) => `${k} ${v.toFixed(1)} req/s`)
        .join(', ')}`,
    );
    gatewayRequests += Math.round(rps['gateway']! * 4);
    const yardstick = nginx ? 'nginx' : 'direct';
    for (const g of gateways) {
      const ratio = rps[g.name]! / rps[yardstick]!;
      record({
        measure: `${g.name} throughput / ${yardstick}, concurrency ${CONCURRENCY}`,
        target: '>= 0.95',
        measured: ratio.toFixed(3),
        pass: ratio >= 0.95,
      });
    }
    await stopNginx();
    await stopFloors();
    await stopWorker();
    await benchGatewayStreams(gateways, services, waitEligible);
    gatewayRequests += STREAMS + 20;
  } finally {
    await stopNginx();
    await stopFloors();
    await Promise.all(gateways.map((g) => g.service.stop()));
    await stopWorker();
  }
  const timeline = probePath('timeline', 'gateway');
  if (timeline) {
    reportTimeline('gateway', timeline, GATEWAY_STEPS);
  }
  const profile = profilePath('gateway');
  if (profile) {
    reportProfile(profile, gatewayRequests);
  }
}
