/**
 * Node's floors under the gateway, measured beside it in the same rounds: the bare Node proxy
 * (node:http and undici, nothing of ours) and a TCP pipe (Node's sockets, no HTTP). Each is
 * printed over nginx, unjudged: the gateway's figure minus the bare proxy's is ours, the bare
 * proxy's minus the pipe's is Node's HTTP layers.
 */
import { startScript } from './gateway-streams.ts';
import { printLine, record } from './stats.ts';

interface Floor {
  readonly name: string;
  readonly what: string;
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The floors in front of `workerUrl`; stop() may be called more than once. */
export async function startProxyFloors(workerUrl: string): Promise<{
  readonly floors: readonly Floor[];
  readonly stop: () => Promise<void>;
}> {
  // Over undici's `dispatch`, as the gateway relays: the floor its own code stands on. The same
  // proxy over `agent.request` (a body stream per response) was 0.5 ms slower here, which would
  // count half a millisecond of undici's as ours.
  const bare = await startScript('bare-proxy.ts', [workerUrl, '--dispatch']);
  const pipe = await startScript('tcp-pipe.ts', [workerUrl]);
  const floors = [
    { name: 'bare Node proxy', what: 'node:http + undici dispatch, nothing else', ...bare },
    { name: 'TCP pipe', what: 'Node sockets, no HTTP', ...pipe },
  ];
  let stopped: Promise<void> | null = null;
  return {
    floors,
    stop: () => (stopped ??= Promise.all(floors.map((f) => f.stop())).then(() => undefined)),
  };
}

/** Prints and records each floor's added p50 over nginx and its CPU per request. */
export function recordFloors(
  floors: readonly Floor[],
  overNginx: (name: string) => number,
  cpuMs: readonly number[],
): void {
  floors.forEach((f, i) => {
    printLine(
      `  ${f.name} (${f.what}) over nginx: ${overNginx(f.name).toFixed(2)} ms, CPU per request ${cpuMs[i]!.toFixed(2)} ms`,
    );
    record({
      measure: `${f.name} CPU per request (user+sys)`,
      target: '-',
      measured: `${cpuMs[i]!.toFixed(2)} ms`,
      pass: null,
    });
    record({
      measure: `${f.name} added p50 minus nginx added p50`,
      target: '-',
      measured: `${overNginx(f.name).toFixed(2)} ms`,
      pass: null,
    });
  });
}
