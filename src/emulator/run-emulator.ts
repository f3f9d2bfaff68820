/**
 * The `npm run emulator` role: start on the configured port and certDir, and print what other
 * processes need (port, CA path, host rules).
 */
import type { Config } from '../config.ts';
import type { Logger } from '../logging.ts';
import { Emulator } from './emulator.ts';
import type { TunableOptions } from './types.ts';

/** The config slice the role needs, plus optional timing overrides. */
export type RunEmulatorConfig = Config['emulator'] & Partial<TunableOptions>;

/** Starts the emulator for the `emulator` role; the caller closes it on SIGTERM. */
export async function runEmulator(config: RunEmulatorConfig, logger: Logger): Promise<Emulator> {
  const { port, certDir, ...tunables } = config;
  const emulator = await Emulator.start({ ...tunables, port, certDir, logger });
  logger.info('emulator ready', {
    port: emulator.port,
    caCertPath: emulator.caCertPath,
    hostResolverRules: emulator.hostResolverRules(),
    hint: `HOST_RESOLVER_RULES="${emulator.hostResolverRules()}" NODE_EXTRA_CA_CERTS=${emulator.caCertPath}`,
  });
  return emulator;
}
