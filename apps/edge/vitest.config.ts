import { vitestConfig } from '@pyworkers/vitest-config';

export default vitestConfig({ testTimeout: 300_000 });
