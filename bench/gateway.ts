/**
 * Issue 5's figures, side by side in one run: the same request sent straight to a worker, through
 * the gateway, and through nginx `proxy_pass` to the same worker; then throughput at a fixed
 * concurrency, direct and through the gateway.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchEmulator } from './remote-emulator.ts';
import { freePort, tempDir, waitForPort } from '../e2e/support/services.ts';
import { reportProfile } from './profile-report.ts';
import {
  BENCH_HEADERS,
  profilePath,
  startBenchWorker,
  startRole,
  type ChildService,
  type Services,
} from './harness.ts';
import { cpuMsOf, printLine, printRow, record, since, summarize } from './stats.ts';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

async function startNginx(
  upstreamPort: number,
): Promise<{ url: string; stop(): Promise<void> } | null> {
  if (!NGINX) {
    return null;
  }
  const dir = tempDir('nginx');
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'nginx.conf'),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream worker { server 127.0.0.1:${upstreamPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://worker;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`,
  );
  const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

async function chat(base: string, prompt: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: BENCH_HEADERS,
    body: JSON.stringify({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: prompt }],
    }),
  });
  await res.arrayBuffer();
  if (!res.ok) {
    throw new Error(`${base} answered ${res.status}`);
  }
  return since(start);
}

async function waitEligible(gateway: ChildService): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const r = (await fetch(`${gateway.url}/health`).then((x) => x.json())) as { eligible?: number };
    if ((r.eligible ?? 0) > 0) {
      return;
    }
    await sleep(200);
  }
  throw new Error('the gateway never saw the worker as eligible');
}

async function throughput(base: string, concurrency: number, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      for (let i = 0; performance.now() < end; i += 1) {
        await chat(base, `throughput ${c}-${i}`);
        done += 1;
      }
    }),
  );
  return (done / ms) * 1000;
}

async function latencies(targets: Record<string, string>): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(
    Object.keys(targets).map((k) => [k, []]),
  );
  for (let i = 0; i < 220; i += 1) {
    for (const [name, base] of Object.entries(targets)) {
      const ms = await chat(base, `gateway latency ${i}`);
      if (i >= 20) {
        out[name]!.push(ms);
      }
    }
  }
  return out;
}

export async function benchGateway(emulator: BenchEmulator, services: Services): Promise<void> {
  await emulator.setOptions({ chunkDelayMs: 0 });
  const worker = await startBenchWorker(emulator, services, 'bench-gateway@example.com', {
    HEARTBEAT_INTERVAL_MS: '500',
  });
  const gateway = await startRole(
    'gateway',
    { DATABASE_URL: services.pg.url, PORT: String(await freePort()) },
    { profileAs: 'gateway' },
  );
  const nginx = await startNginx(Number(new URL(worker.url).port));
  let gatewayRequests = 220;
  try {
    await waitEligible(gateway);
    const targets: Record<string, string> = { direct: worker.url, gateway: gateway.url };
    if (nginx) {
      targets['nginx'] = nginx.url;
    }
    const cpuBefore = cpuMsOf(gateway.pid);
    const l = await latencies(targets);
    const gatewayCpu = (cpuMsOf(gateway.pid) - cpuBefore) / 200;
    const s = Object.fromEntries(Object.entries(l).map(([k, v]) => [k, summarize(v)]));
    printLine('\nGateway vs direct vs nginx proxy_pass (non-streaming, same worker)');
    printRow('direct to the worker', s['direct']!);
    printRow('through the gateway', s['gateway']!);
    const gwAdded = s['gateway']!.p50 - s['direct']!.p50;
    if (s['nginx']) {
      printRow('through nginx proxy_pass', s['nginx']);
      const ngAdded = s['nginx'].p50 - s['direct']!.p50;
      printLine(
        `  added at p50: gateway ${gwAdded.toFixed(2)} ms, nginx ${ngAdded.toFixed(2)} ms, difference ${(gwAdded - ngAdded).toFixed(2)} ms   (target: <= nginx + 1 ms)`,
      );
      record({
        measure: 'gateway added p50 minus nginx added p50',
        target: '<= 1 ms',
        measured: `${(gwAdded - ngAdded).toFixed(2)} ms`,
        pass: gwAdded - ngAdded <= 1,
      });
    } else {
      printLine(
        `  added at p50: gateway ${gwAdded.toFixed(2)} ms (nginx not installed: apt-get install nginx-light)`,
      );
    }
    const direct = await throughput(worker.url, 8, 4000);
    const viaGateway = await throughput(gateway.url, 8, 4000);
    gatewayRequests += Math.round(viaGateway * 4);
    printLine(
      '\nThroughput at concurrency 8 (one account: its queue runs one generation at a time)',
    );
    printLine(
      `  direct ${direct.toFixed(1)} req/s, gateway ${viaGateway.toFixed(1)} req/s, ratio ${(viaGateway / direct).toFixed(3)}`,
    );
    printLine(`  gateway CPU per request (user + sys): ${gatewayCpu.toFixed(2)} ms`);
    record({
      measure: 'gateway throughput / direct, concurrency 8',
      target: '>= 0.95',
      measured: (viaGateway / direct).toFixed(3),
      pass: viaGateway / direct >= 0.95,
    });
    record({
      measure: 'gateway CPU per request (user+sys)',
      target: '-',
      measured: `${gatewayCpu.toFixed(2)} ms`,
      pass: null,
    });
  } finally {
    await nginx?.stop();
    await gateway.stop();
    await worker.stop();
  }
  const profile = profilePath('gateway');
  if (profile) {
    reportProfile(profile, gatewayRequests);
  }
}
