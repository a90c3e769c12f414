import { vitestConfig } from '@pyworkers/vitest-config';

// The e2e tests build real Pyodide bundles; CI runs every package's suite at once on 2 cores.
export default vitestConfig({ testTimeout: 300_000 });
