// Source-first runs (tests, `npm start` in the repo) start the TypeScript host process
// through tsx; published packages run dist/host/host-process.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./host-process.ts');
