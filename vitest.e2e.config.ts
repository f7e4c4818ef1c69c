import { defineConfig } from 'vitest/config';

// The e2e tier: real kube-apiserver + etcd pairs and Herald as its own process. Run with
// `npx vitest run -c vitest.e2e.config.ts` after `npm run build`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/harness/global-setup.ts'],
    // Apiservers are heavy on two cores: one test file at a time, and generous bounds.
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/test-results/e2e.json' },
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 300_000,
    teardownTimeout: 60_000,
  },
});
