/**
 * @module main
 * Composition root: `worker`, `gateway` or `emulator`. Reads the config, builds the logger, wires
 * the role's parts, and closes everything on SIGTERM or SIGINT.
 */
import { ConfigError, loadConfig, type Role } from './config.ts';
import { createLogger } from './logging.ts';

const ROLES: readonly Role[] = ['worker', 'gateway', 'emulator'];

async function main(): Promise<void> {
  const role = process.argv[2] as Role | undefined;
  if (!role || !ROLES.includes(role)) {
    process.stderr.write(`usage: main.ts <${ROLES.join('|')}>\n`);
    process.exit(2);
  }
  let config;
  try {
    config = loadConfig(role);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ debug: config.debug });
  logger.error(`role ${role} is not wired yet`);
  process.exit(1);
}

await main();
