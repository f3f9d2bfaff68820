/**
 * Starts one PostgreSQL and one Redis for the whole e2e run and hands their URLs to the tests
 * through vitest's provide/inject. Suites that take a service down start their own instead.
 */
import type { TestProject } from 'vitest/node';
import { Emulator } from '../../src/emulator/index.ts';
import { startPostgres, startRedis } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The CA must exist before test processes start: Node reads NODE_EXTRA_CA_CERTS only then.
  await (await Emulator.start({ certDir: process.env['E2E_CA_DIR']! })).close();
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  project.provide('pgUrl', pg.url);
  project.provide('redisUrl', redis.url);
  return async () => {
    await Promise.all([pg.stop(), redis.stop()]);
  };
}
