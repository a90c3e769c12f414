import { vitestConfig } from '@pyworkers/vitest-config';

// The e2e tests boot real Pyodide, which takes seconds on a 2-core machine.
export default vitestConfig({ testTimeout: 300_000 });
