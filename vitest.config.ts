import { defineConfig } from 'vitest/config';

// The suite runs on two shared cores, with test files in parallel, where a test's time varies by
// 2x and more. A timeout is there to catch a hang, never to measure speed (benchmarks do that), so
// it is far above any test's time on such a machine; tests that run commands set their own.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
