// Isolates

// Build
export {
  type BuildInput,
  type BuildOptions,
  buildBundle,
  PYODIDE_LOCK_FILE,
  PYODIDE_VERSION,
  SDK_VERSION,
} from './build.js';
// Bundles
export {
  BUNDLE_FORMAT_VERSION,
  type Bundle,
  type BundleManifest,
  bundleManifestSchema,
  decodeBundle,
  encodeBundle,
} from './bundle.js';
// Errors and logging
export { IsolateError, type IsolateErrorCode } from './errors.js';
export {
  Isolate,
  type IsolateOptions,
  type IsolateRequest,
  type IsolateResponse,
} from './isolate.js';
export { type Logger, silentLogger } from './logger.js';
