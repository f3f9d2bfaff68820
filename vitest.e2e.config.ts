import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Every e2e emulator signs with one CA kept here; Node reads NODE_EXTRA_CA_CERTS only at start,
// so global setup creates it before any test process is forked.
export const E2E_CA_DIR = path.join(os.tmpdir(), 'gemini-kasm-e2e-ca');
process.env['E2E_CA_DIR'] = E2E_CA_DIR;
process.env['NODE_EXTRA_CA_CERTS'] = path.join(E2E_CA_DIR, 'ca.pem');

// e2e suites share PostgreSQL, Redis and Chromium, so files run one at a time.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/support/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
