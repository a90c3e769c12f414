import { vitestConfig } from '@pyworkers/vitest-config';

// Real Pyodide boots take seconds on a 2-core machine.
export default vitestConfig({ testTimeout: 120_000 });
