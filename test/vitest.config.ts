import { projectTestConfig } from '../scripts/vitest-preset.ts';

export default projectTestConfig({
  include: ['e2e/**/*.e2e-spec.ts', 'support/**/*.spec.ts'],
  testTimeout: 180_000,
  hookTimeout: 240_000,
  fileParallelism: false,
});
