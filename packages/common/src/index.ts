// Files readers never see half-written
export { writeFileAtomic, writeFileAtomicSync } from './atomic-write.js';
// Where pyworkers keeps its caches
export { cacheDir } from './cache-dir.js';
// Errors across process and thread boundaries
export { type ErrorData, fromErrorData, toErrorData } from './ipc.js';
// The logger libraries take (silent by default)
export { type Logger, silentLogger } from './logger.js';
// The error contract
export {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorLike,
  type PyworkersErrorOptions,
} from './pyworkers-error.js';
// zod failures as readable messages
export { formatIssues, type IssueLike, issuePath } from './zod-issue.js';
