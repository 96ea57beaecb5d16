import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'apps/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests start real servers and child processes; give slow CI machines room without hiding hangs.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: run files in parallel, but not more than the machine can schedule.
    maxWorkers: 2,
    reporters: ['default', './testing/summary-reporter.ts'],
  },
});
