import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'plugins/**/*.test.ts'],
    // Each file gets its own database (a fresh PostgreSQL database or an in-memory PGlite).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci-results/vitest.json' }]] : ['default'],
    hookTimeout: 60_000,
  },
});
