/**
 * `npm run stack`: the whole product on one machine without Docker (see --help). Prints the URLs
 * and then `stack ready`; Ctrl-C or SIGTERM stops everything it started, in reverse order, and
 * waits for it; a second Ctrl-C (a second later or more) kills what is left at once.
 */
import path from 'node:path';
import {
  LocalStack,
  findBinaries,
  MissingBinariesError,
  USAGE,
  UsageError,
  parseStackArgs,
  readyReport,
  type StackOptions,
} from './lib/index.ts';
import { provision } from './lib/provision.ts';
import { firstKey } from './lib/stack-keys.ts';

const ROOT_DIR = path.resolve(import.meta.dirname, '..');
// npm and tsx forward the terminal's Ctrl-C, so one keypress can arrive twice in a few ms.
const DUPLICATE_SIGNAL_MS = 1000;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function readOptions(): StackOptions | number {
  try {
    const parsed = parseStackArgs(process.argv.slice(2), {
      cwd: process.cwd(),
      defaultDir: path.join(ROOT_DIR, '.stack'),
      display: process.env['DISPLAY'] || null,
    });
    if (parsed.kind === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    return parsed.options;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`stack: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

/** First signal: stop in order. A later one: kill everything now and exit. A crash: the same. */
function installStopHandlers(stop: AbortController, stack: LocalStack): void {
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals) => {
    const now = Date.now();
    if (firstAt === 0) {
      firstAt = now;
      print(`\nstack: ${signal}: stopping everything (Ctrl-C again to force)…`);
      stop.abort(new Error(`stopped by ${signal}`));
    } else if (now - firstAt > DUPLICATE_SIGNAL_MS) {
      print('stack: forcing: killing every process it started');
      void stack.kill().finally(() => process.exit(130));
    }
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
  // A bug here must not leave the children (in process groups of their own) running.
  const crash = (err: unknown) => {
    process.stderr.write(
      `stack: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    void stack.kill().finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

/** Step 1: install what is missing (scripts/lib/provision.ts); every program is then there. */
function binariesPresent(options: StackOptions): boolean {
  const given = [
    ...(options.binaries.chromium ? ['chromium'] : []),
    ...(options.binaries.redisServer ? ['redis-server'] : []),
  ];
  const provisioned = provision({ profile: 'stack', given, print });
  if (!provisioned.ok) {
    process.stderr.write(`stack: ${provisioned.problem ?? 'provisioning failed'}\n`);
    return false;
  }
  try {
    findBinaries(options.binaries);
    return true;
  } catch (err) {
    if (err instanceof MissingBinariesError) {
      process.stderr.write(`stack: ${err.message}\n`);
      return false;
    }
    throw err;
  }
}

async function main(): Promise<number> {
  const options = readOptions();
  if (typeof options === 'number') {
    return options;
  }
  if (!binariesPresent(options)) {
    return 1;
  }
  const stop = new AbortController();
  const stack = new LocalStack(options, { print }, ROOT_DIR);
  installStopHandlers(stop, stack);
  const mode = options.real ? '--real' : 'emulator';
  print(`stack: ${options.workers} worker(s), ${mode} mode, state in ${options.dir}`);
  try {
    await stack.start(stop.signal);
  } catch (err) {
    if (stop.signal.aborted) {
      print('stack: stopped');
      return 0;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `stack: start-up failed: ${message}\nstack: everything it started is stopped\n`,
    );
    return 1;
  }
  const keys = stack.keys;
  const shownKeys = {
    user: keys?.file ? firstKey(keys.apiKeys) : null,
    admin: keys?.file ? firstKey(keys.adminApiKeys) : null,
    file: keys?.file ?? null,
  };
  for (const line of readyReport(options, stack.ports, { cwd: process.cwd(), keys: shownKeys })) {
    print(line);
  }
  if (!stop.signal.aborted) {
    await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
  }
  await stack.close();
  print('stack: stopped');
  return 0;
}

process.exit(await main());
