import { defineConfig } from 'vitest/config';

// Four projects: unit (pure logic, fast), chart (real helm 3 and 4, no cluster), e2e (the local control plane with
// kwok's simulated nodes), node (a real node: pods run; root only).
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
      // node: a real single-node cluster (containerd, kubelet, kube-proxy, CoreDNS) in its own namespaces; needs
      // root. One node per run, started by its globalSetup; files one after another, since pods really run.
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          globalSetup: ['test/support/realnode/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
