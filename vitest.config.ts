import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The e2e tier (real kube-apiservers) has its own config: npm run test:e2e.
    exclude: [...configDefaults.exclude, 'test/e2e/**'],
    // Integration tests start real gRPC servers and clients; the machine has two cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The JSON report lets .ci/run print one closing 'N passed, N failed' line for all tiers.
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/test-results/unit.json' },
    pool: 'forks',
    maxWorkers: 2,
  },
});
