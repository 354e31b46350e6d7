import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'plugins/**/*.test.ts'],
    // The web UI is built (when stale) before the tests: the browser tests and `npm start` serve it.
    globalSetup: ['test/support/build-ui.ts'],
    // Each file gets its own database (a fresh PostgreSQL database or an in-memory PGlite).
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci-results/vitest.json' }]] : ['default'],
    hookTimeout: 60_000,
  },
});
