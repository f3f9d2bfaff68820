/**
 * `npm run bench`: every figure is a ratio or difference measured side by side in this one run,
 * never a timed test. Runs against local PostgreSQL, Redis, Chromium and the emulator.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Emulator } from '../src/emulator/index.ts';
import { benchBrowser } from './browser.ts';
import { benchCookieChurn } from './cookie-churn.ts';
import { benchGateway } from './gateway.ts';
import { enableProbe, enableProfiling, setBaseline, startServices } from './harness.ts';
import { startRemoteEmulator } from './remote-emulator.ts';
import { benchQueue } from './queue.ts';
import { benchTransport } from './transport.ts';
import { loadAverage, printLine, printTable } from './stats.ts';
import { benchWorkerVsDirect } from './worker-vs-direct.ts';

const CA_DIR = path.join(os.tmpdir(), 'gemini-kasm-bench-ca');
const CA_FILE = path.join(CA_DIR, 'ca.pem');

// Node reads NODE_EXTRA_CA_CERTS only at start: make the CA, then run again trusting it.
if (process.env['NODE_EXTRA_CA_CERTS'] !== CA_FILE) {
  const e = await Emulator.start({ certDir: CA_DIR });
  await e.close();
  const r = spawnSync(process.execPath, process.execArgv.concat(process.argv.slice(1)), {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: CA_FILE },
  });
  process.exit(r.status ?? 1);
}

const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (built.status !== 0) {
  process.exit(built.status ?? 1);
}
const args = process.argv.slice(2);
// `npm run bench -- [worker|latency|churn|browser|queue|gateway] [--profile] [--alloc] [--timeline]
//  [--baseline DIR]`
const baselineAt = args.indexOf('--baseline');
if (baselineAt >= 0) {
  setBaseline(args.splice(baselineAt, 2)[1] ?? '');
}
const only = args.find((a) => !a.startsWith('--'));
if (args.includes('--alloc')) {
  enableProbe('alloc', path.resolve(import.meta.dirname, 'out'));
}
if (args.includes('--timeline')) {
  enableProbe('timeline', path.resolve(import.meta.dirname, 'out'));
}
if (args.includes('--profile')) {
  enableProfiling(path.resolve(import.meta.dirname, 'out'));
}
printLine(
  `gemini-kasm bench — node ${process.version}, ${os.cpus().length} cores, load ${loadAverage()}`,
);
const services = await startServices();
const emulator = await startRemoteEmulator(CA_DIR);
try {
  if (!only || only === 'worker' || only === 'latency') {
    await benchWorkerVsDirect(emulator, services);
  }
  if (!only || only === 'worker' || only === 'churn') {
    await benchCookieChurn(emulator, services);
  }
  if (!only || only === 'browser') {
    await benchBrowser(emulator);
  }
  if (!only || only === 'transport') {
    await benchTransport(emulator);
  }
  if (!only || only === 'queue') {
    await benchQueue(services);
  }
  if (!only || only === 'gateway') {
    await benchGateway(emulator, services);
  }
} finally {
  await emulator.close();
  await services.close();
}
printTable(`Summary (load average at the end ${loadAverage()})`);
