// Public API: isolates and their launcher, events, builds and baselines, bundles, errors, logging.

export {
  type BaselineOptions,
  baselinePath,
  loadBaseline,
  makeBaselineSnapshot,
} from './baseline.js';
export { type BuildInput, type BuildOptions, buildBundle } from './build.js';
export {
  BUNDLE_FORMAT_VERSION,
  type Bundle,
  type BundleManifest,
  bundleManifestSchema,
  decodeBundle,
  encodeBundle,
} from './bundle.js';
export { IsolateError, type IsolateErrorCode } from './errors.js';
export type {
  EventOutcome,
  EventResultFor,
  QueueEvent,
  QueueMessage,
  QueueMessageOutcome,
  QueueResult,
  ScheduledEvent,
  ScheduledResult,
  WorkerEvent,
  WorkerEventResult,
} from './events.js';
export {
  HOST_CALL_FAILED,
  type HostCall,
  type HostCallError,
  type HostCallHandler,
  hostCallError,
} from './host-call.js';
export { cacheDir } from './internal/cache-dir.js';
export type { MemoryReport } from './internal/protocol.js';
export {
  Isolate,
  type IsolateBoot,
  type IsolateOptions,
  type IsolateRequest,
  type IsolateResponse,
} from './isolate.js';
export { IsolateLauncher, type LauncherOptions, type LauncherStats } from './launcher.js';
export { DEFAULT_LIMITS, type IsolateLimits, type WorkerLimitOverrides } from './limits.js';
export { type Logger, silentLogger } from './logger.js';
export { PYODIDE_LOCK_FILE, PYODIDE_VERSION, SDK_VERSION } from './version.js';
