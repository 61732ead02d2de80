import { projectTestConfig } from '../../scripts/vitest-preset.ts';

export default projectTestConfig();
