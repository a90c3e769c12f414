// Source-first runs (tests, `npm start` in the repo) start the TypeScript worker through tsx.
// Node 20 does not apply `--import tsx` from a worker's execArgv to the worker's entry itself.
import { register } from 'tsx/esm/api';

register();
await import('./isolate-worker.ts');
