/**
 * @module main
 * Composition root: `worker`, `gateway` or `emulator`. Reads the config, builds the logger, starts
 * the role, and closes everything on SIGTERM or SIGINT.
 */
import { ConfigError, loadConfig, type Config, type Role } from './config.ts';
import { NoApiKeyError } from './http/index.ts';
import { createLogger, type Logger } from './logging.ts';

const ROLES: readonly Role[] = ['worker', 'gateway', 'emulator'];

interface Closable {
  close(): Promise<void>;
}

// Each role loads only its own modules: the emulator needs no database driver, and so on.
async function start(config: Readonly<Config>, logger: Logger): Promise<Closable> {
  switch (config.role) {
    case 'worker':
      return (await import('./roles/worker.ts')).startWorker(config, logger);
    case 'gateway':
      return (await import('./roles/gateway.ts')).startGateway(config, logger);
    case 'emulator':
      return (await import('./emulator/index.ts')).runEmulator(config.emulator, logger);
  }
}

function readConfig(role: Role): Readonly<Config> {
  try {
    return loadConfig(role);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const role = process.argv[2] as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    process.stderr.write(`usage: main.ts <${ROLES.join('|')}>\n`);
    process.exit(2);
  }
  const config = readConfig(role);
  const logger = createLogger({ debug: config.debug });
  const service = await start(config, logger).catch((err: unknown) => {
    // Refusing to run without a key is a configuration problem, said in one line.
    if (err instanceof NoApiKeyError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info('shutting down', { signal });
    // A stuck close must not keep a container from stopping.
    setTimeout(() => process.exit(1), 10_000).unref();
    service.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
