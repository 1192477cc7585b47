import { defineConfig } from 'vitest/config';

// Three projects: unit (pure logic, fast), chart (real helm 3 and 4, no cluster), e2e (the local control plane).
export default defineConfig({
  test: {
    projects: [
      // unit also runs test/tty: the built binary in tmux, no cluster (npm test builds first)
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/tty/**/*.test.ts'] } },
      { test: { name: 'chart', include: ['test/chart/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/e2e-global-setup.ts'],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
