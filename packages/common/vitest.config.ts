import { vitestConfig } from '@pyworkers/vitest-config';

export default vitestConfig();
