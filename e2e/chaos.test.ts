/**
 * The gateway under chaos (issue 5): three accounts, each a headless Chromium signed in by a
 * "person" and a worker child process attached to it over CDP, behind one gateway process. 300
 * requests, streaming and not, go through the official SDK while account A hits its usage limit,
 * worker B is SIGKILLed in the middle of a streamed answer, and Chrome C is killed and restarted
 * on the same profile. Every request must end with a complete answer or an OpenAI-shaped error,
 * none may hang, and the emulator's record must show no prompt answered twice and no prompt sent
 * twice unless Google proved it refused the first send (sends ≤ requests + proven rejections).
 * Prints the counts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Emulator } from '../src/emulator/index.ts';
import {
  cookiesPersistedAt,
  CHAOS_KEYS,
  countOutcomes,
  createCleanup,
  createFaultSchedule,
  createScratchDatabase,
  describeViolations,
  formatReport,
  gatewayHealth,
  readGatewayCounters,
  restartChromium,
  runChat,
  runLoad,
  startChaosCluster,
  tallyUpstream,
  tcpReachable,
  waitForEligible,
  waitForServing,
  workerHealth,
  type ChaosCluster,
  type ChaosFault,
  type ChaosNode,
  type ChatOutcome,
  type ChromeRestart,
  type FaultRun,
  type GatewayCounters,
  type Phase,
  type WorkerKill,
} from './support/chaos/index.ts';
import { uniqueEmail } from './support/worker.ts';

const TOTAL = 300;
const CONCURRENCY = 10;
/** Paces the load over ~40 s, so each fault lands at a known moment of it. */
const INTERVAL_MS = 130;
const REQUEST_TIMEOUT_MS = 60_000;
/** Requests from here on wait until Chrome C's restart is over and C serves again. */
const HOLD_FROM = 250;
const FAULT_A = 'usage_limit on account A';
const FAULT_B = 'SIGKILL worker B';
const FAULT_C = 'kill and restart Chrome C';

const cleanup = createCleanup();
const testStartedAtMs = Date.now();
const runId = testStartedAtMs.toString(36);
let emulator: Emulator;
let cluster: ChaosCluster;
let client: OpenAI;

beforeAll(async () => {
  emulator = await Emulator.start({ certDir: process.env['E2E_CA_DIR']!, chunkDelayMs: 10 });
  cleanup.add('emulator', () => emulator.close());
  const db = await createScratchDatabase(inject('pgUrl'), 'chaos');
  cleanup.add('database', () => db.drop());
  cluster = await startChaosCluster({
    emulator,
    emails: ['chaos-a', 'chaos-b', 'chaos-c'].map(uniqueEmail),
    databaseUrl: db.url,
    workerEnv: {
      REDIS_URL: inject('redisUrl'),
      HEARTBEAT_INTERVAL_MS: '500',
      GEMINI_COOLDOWN_JITTER_S: '0',
      GEMINI_STALL_TIMEOUT_MS: '10000',
    },
    cleanup,
  }).catch(async (err: unknown) => {
    // The shared services' state at that moment, so a set-up failure says whose it was.
    const redis = await tcpReachable(inject('redisUrl'));
    const pg = await tcpReachable(inject('pgUrl'));
    const state = `shared Redis up: ${redis}, PostgreSQL up: ${pg}`;
    throw new Error(`the chaos cluster did not start (${state})`, { cause: err });
  });
  client = new OpenAI({
    apiKey: CHAOS_KEYS.user,
    baseURL: `${cluster.gateway.url}/v1`,
    maxRetries: 0,
    timeout: REQUEST_TIMEOUT_MS + 5_000,
  });
  console.log(`chaos: cluster up in ${Date.now() - testStartedAtMs} ms`);
}, 120_000);

afterAll(async () => {
  const closingAtMs = Date.now();
  const failed = await cleanup.close();
  console.log(`chaos: clean-up took ${Date.now() - closingAtMs} ms`);
  expect(failed, 'clean-up steps that failed').toEqual([]);
}, 60_000);

function node(name: 'a' | 'b' | 'c'): ChaosNode {
  const found = cluster.nodes.find((n) => n.email.startsWith(`chaos-${name}-`));
  if (!found) {
    throw new Error(`no node ${name}`);
  }
  return found;
}

/**
 * Two streamed, two whole, and so on. Not by parity: the gateway alternates between idle nodes,
 * so with parity each node would see only one kind.
 */
function isStream(index: number): boolean {
  return index % 4 < 2;
}

function prompt(index: number): string {
  return `chaos ${runId} request ${index} (${isStream(index) ? 'stream' : 'whole'})`;
}

function sendOne(index: number): Promise<ChatOutcome> {
  const request = { index, prompt: prompt(index), stream: isStream(index) };
  return runChat(client, { ...request, timeoutMs: REQUEST_TIMEOUT_MS });
}

/** What the faults saw, for the checks and the report. */
interface FaultMoments {
  kill: WorkerKill | null;
  /** The streamed prompt B was answering when it died, if one was caught in time. */
  killedMidStream: string | null;
  chrome: ChromeRestart | null;
  /** `worker login state / gateway state` of C while its Chrome was away. */
  chromeGapStates: string[];
}

/** Waits (up to 5 s) until B is streaming an answer upstream, so the kill cuts one mid-way. */
async function streamUnderwayOn(email: string): Promise<string | null> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const open = emulator
      .records()
      .find(
        (r) =>
          r.kind === 'generate' &&
          r.email === email &&
          r.endedAt === null &&
          r.prompt?.endsWith('(stream)') === true &&
          Date.now() - r.startedAt >= 30,
      );
    if (open?.prompt !== undefined) {
      return open.prompt;
    }
    await sleep(5);
  }
  return null;
}

/** A at request 50, B at 110, C at 190 (once its sign-in is on disk); 250+ wait for C. */
function chaosFaults(moments: FaultMoments): ChaosFault[] {
  const [a, b, c] = [node('a'), node('b'), node('c')];
  const killB = async () => {
    moments.killedMidStream = await streamUnderwayOn(b.email);
    moments.kill = { email: b.email, atMs: Date.now() };
    await b.worker.stop('SIGKILL');
  };
  const restartC = async () => {
    moments.chrome = await restartChromium(c.chrome);
    moments.chromeGapStates = await waitForServing(cluster.gateway.url, c, 30_000);
  };
  const injectA = async () => emulator.injectFault(a.email, 'usage_limit');
  const notBeforeMs = cookiesPersistedAt(c.signedInAtMs);
  return [
    { name: FAULT_A, atRequest: 50, timeoutMs: 1_000, run: injectA },
    { name: FAULT_B, atRequest: 110, timeoutMs: 15_000, run: killB },
    {
      name: FAULT_C,
      atRequest: 190,
      notBeforeMs,
      holdFrom: HOLD_FROM,
      timeoutMs: 40_000,
      run: restartC,
    },
  ];
}

interface ChaosRun {
  readonly loadStartedAtMs: number;
  readonly loadMs: number;
  readonly outcomes: readonly ChatOutcome[];
  readonly final: ChatOutcome;
  readonly moments: FaultMoments;
  readonly faults: readonly FaultRun[];
}

/** The load with its faults, then one more request once they have all run. */
async function runChaos(): Promise<ChaosRun> {
  const moments: FaultMoments = {
    kill: null,
    killedMidStream: null,
    chrome: null,
    chromeGapStates: [],
  };
  const schedule = createFaultSchedule(chaosFaults(moments));
  const loadStartedAtMs = Date.now();
  const outcomes = await runLoad({
    total: TOTAL,
    concurrency: CONCURRENCY,
    intervalMs: INTERVAL_MS,
    beforeIssue: (i) => schedule.beforeIssue(i),
    send: sendOne,
  });
  const loadMs = Date.now() - loadStartedAtMs;
  await schedule.settled();
  // After the faults the gateway still answers, on the node left standing.
  await waitForEligible(cluster.gateway.url, 1, 30_000);
  const final = await sendOne(TOTAL);
  return { loadStartedAtMs, loadMs, outcomes, final, moments, faults: schedule.runs() };
}

/** The phases of the run, for counting errors by when their request started. */
function phasesOf(run: ChaosRun): Phase[] {
  const fault = (name: string) => run.faults.find((f) => f.name === name);
  const phases: Phase[] = [{ name: 'before faults', fromMs: run.loadStartedAtMs }];
  const add = (name: string, fromMs: number | null | undefined) =>
    fromMs != null && phases.push({ name, fromMs });
  add('A limited', fault(FAULT_A)?.startedAtMs);
  add('B killed', run.moments.kill?.atMs);
  add('Chrome C away', run.moments.chrome?.killedAtMs);
  add('C serving again', fault(FAULT_C)?.endedAtMs);
  return phases;
}

it('serves 300 requests through a usage limit, a SIGKILLed worker and a Chrome restart', async ({
  onTestFailed,
}) => {
  onTestFailed(() => console.log(logTails()));
  const run = await runChaos();
  const all = [...run.outcomes, run.final];
  const tally = tallyUpstream(emulator.records(), all, run.moments.kill ? [run.moments.kill] : []);
  const counters = await readGatewayCounters(cluster.gateway.url);
  const victim = all.find((o) => o.prompt === run.moments.killedMidStream);
  const notes = [
    `stream cut by the SIGKILL: ${victim ? `#${victim.index} ${victim.kind}` : 'none caught'}`,
    `C while its Chrome was away: ${run.moments.chromeGapStates.join(', ')}`,
  ];
  const testMs = Date.now() - testStartedAtMs;
  const phases = phasesOf(run);
  const report = { ...run, outcomes: all, testMs, phases, counters, tally, notes };
  console.log(formatReport(report));

  expect(run.faults.filter((r) => r.error !== null)).toEqual([]);
  expect(describeViolations(all), 'requests that hung, were cut or truncated').toEqual([]);
  expect(run.final.kind, `the final request: ${run.final.code ?? ''}`).toBe('ok');
  expect(tally.answeredTwice, 'prompts answered twice upstream').toEqual([]);
  // At most once upstream: a prompt goes again only after Google proved it refused it.
  expect(tally.duplicateSends, 'prompts sent again without a proven rejection').toEqual([]);
  expect(tally.generations).toBeLessThanOrEqual(tally.requests + tally.provenRejections);
  expect(tally.okWithoutAnswer, 'complete answers no generation produced').toEqual([]);
  // The stream B was answering when it died ends in a clear error, never a fake finish.
  expect(victim, 'a stream under way on B when it was killed').toBeDefined();
  expect(victim?.code).toBe('upstream_outcome_unknown');
  expect(countOutcomes(all).byKind['ok'] ?? 0).toBeGreaterThanOrEqual(TOTAL * 0.6);
  // Once every fault has run, the node left (C, on its restarted Chrome) answers everything.
  const afterFaults = run.outcomes.filter((o) => o.index >= HOLD_FROM && o.kind !== 'ok');
  expect(afterFaults.map((o) => `#${o.index} ${o.kind} ${o.status} ${o.code}`)).toEqual([]);
  await expectFaultEffects(run.moments, counters);
}, 180_000);

/** Each fault did what it should have, as the gateway, the emulator and worker C tell it. */
async function expectFaultEffects(moments: FaultMoments, counters: GatewayCounters) {
  const [a, b, c] = [node('a'), node('b'), node('c')];
  const records = emulator.records().filter((r) => r.kind === 'generate');
  expect(records.filter((r) => r.email === a.email && r.fault === 'usage_limit')).toHaveLength(1);
  const health = await gatewayHealth(cluster.gateway.url);
  expect(health.nodes.find((n) => n.nodeUrl === a.worker.url)?.state).toBe('cooling');
  expect(health.nodes.find((n) => n.nodeUrl === b.worker.url)?.state).toBe('stale');
  expect(counters.failovers['status_429'] ?? 0).toBeGreaterThanOrEqual(1);
  expect(counters.failovers['unreachable'] ?? 0).toBeGreaterThanOrEqual(1);
  // Worker C reconnected to the restarted Chrome and answered after it came back.
  const restartedAtMs = moments.chrome?.restartedAtMs ?? Infinity;
  const servedAfter = records.filter(
    (r) => r.email === c.email && r.status === 200 && r.startedAt > restartedAtMs,
  );
  expect(servedAfter.length).toBeGreaterThan(10);
  const worker = await workerHealth(c.worker.url);
  expect(worker).toMatchObject({ login_state: 'logged_in', browser: { connected: true } });
  expect(worker.browser?.reconnects ?? 0).toBeGreaterThanOrEqual(1);
}

/** The last lines each process wrote, for a failed run. */
function logTails(): string {
  const tail = (text: string) => text.split('\n').slice(-25).join('\n');
  const parts = cluster.nodes.map((n) => `--- worker ${n.email}\n${tail(n.worker.output())}`);
  return [`--- gateway\n${tail(cluster.gateway.output())}`, ...parts].join('\n');
}
