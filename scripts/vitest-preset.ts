import { basename } from 'node:path';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

type TestOptions = NonNullable<ViteUserConfig['test']>;

/**
 * The one vitest configuration every project shares. When the repository's test runner
 * (scripts/test.mjs) sets ANNEAL_TEST_RESULTS_DIR, each project also writes a JSON report there so
 * the runner can print one closing "N passed, N failed" line for the whole run.
 */
export function projectTestConfig(overrides: TestOptions = {}): ViteUserConfig {
  const resultsDir = process.env.ANNEAL_TEST_RESULTS_DIR;
  const project = basename(process.cwd());
  return defineConfig({
    test: {
      include: ['src/**/*.spec.ts', 'src/**/*.int-spec.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      env: { TZ: 'UTC' },
      reporters: resultsDir ? ['default', 'json'] : ['default'],
      outputFile: resultsDir ? { json: `${resultsDir}/${project}.json` } : undefined,
      ...overrides,
    },
  });
}
