import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 10_000,
    // Vitest's default leaves a core idle (cpus - 1): on CI's 2 cores that ran the unit files one
    // at a time, 217 s where both cores take 117 s.
    maxWorkers: os.availableParallelism(),
  },
});
