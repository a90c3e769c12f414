import { vitestConfig } from '@pyworkers/vitest-config';

// The e2e tests spawn child processes and run real SQLite files.
export default vitestConfig({ testTimeout: 300_000 });
