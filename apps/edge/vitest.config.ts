import { vitestConfig } from '@pyworkers/vitest-config';

export default vitestConfig({ testTimeout: 120_000 });
