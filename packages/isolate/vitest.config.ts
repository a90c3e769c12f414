import { vitestConfig } from '@pyworkers/vitest-config';

// Real Pyodide boots take seconds, and CI runs every suite at once on 2 cores: be generous.
export default vitestConfig({ testTimeout: 300_000 });
