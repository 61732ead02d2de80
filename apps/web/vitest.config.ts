import react from '@vitejs/plugin-react';
import { mergeConfig } from 'vitest/config';
import { projectTestConfig } from '../../scripts/vitest-preset.ts';

export default mergeConfig(
  projectTestConfig({ include: ['src/**/*.spec.tsx', 'src/**/*.spec.ts'], environment: 'jsdom' }),
  { plugins: [react()] },
);
