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
  baseline,
  probePath,
  profilePath,
  startBenchWorker,
  startRole,
  type Services,
} from './harness.ts';
import { waitEligible } from './gateway-wait.ts';
import {
  CONCURRENCY,
  JIT_WARM_UP,
  LATENCY_ROUNDS,
  firstTurns,
  latencies,
  throughputs,
  warmUp,
} from './gateway-requests.ts';
import { cpuMsOf, printLine, printRow, record, since } from './stats.ts';

const IDLE_MS = 3000;

/** CPU ms each process burns per ms while no request comes, over IDLE_MS. */
async function idleBurn(pids: readonly number[]): Promise<number[]> {
  const from = pids.map(cpuMsOf);
  await sleep(IDLE_MS);
  return pids.map((pid, i) => (cpuMsOf(pid) - from[i]!) / IDLE_MS);
}

/** `f`, run at most once: later calls share the first call's promise. */
function onlyOnce(f: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= f());
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
  let gatewayRequests = JIT_WARM_UP + LATENCY_ROUNDS * 2;
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
    // The floors' is measured alike: what the gateway's figure stands on. The lower of two idle
    // windows, before and after the warm-up: a collection or a compilation that lands in one
    // (V8 runs them when a process goes quiet) was taken out of the measured requests' CPU, and
    // a TCP pipe came to -0.71 ms per request.
    const pids = [...gateways.map((g) => g.service.pid), ...floors.map((f) => f.pid)];
    const idleBefore = await idleBurn(pids);
    await warmUp(targets);
    const idleAfter = await idleBurn(pids);
    const idlePerMs = pids.map((_, i) => Math.min(idleBefore[i]!, idleAfter[i]!));
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
