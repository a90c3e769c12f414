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
// Streamed bodies: the types and the credit-window helpers the router's IPC hop reuses.
export {
  type Body,
  type BodyMessage,
  type BodyStream,
  BodyStreams,
  INLINE_BODY_BYTES,
  isBodyMessage,
  isBodyStream,
  readWhole,
  STREAM_WINDOW_BYTES,
} from './internal/body-stream.js';
export { cacheDir } from './internal/cache-dir.js';
export type { MemoryReport } from './internal/protocol.js';
export {
  Isolate,
  type IsolateBoot,
  type IsolateFetchOptions,
  type IsolateOptions,
  type IsolateRequest,
  type IsolateResponse,
  type IsolateStreamingResponse,
} from './isolate.js';
export { IsolateLauncher, type LauncherOptions, type LauncherStats } from './launcher.js';
export { DEFAULT_LIMITS, type IsolateLimits, type WorkerLimitOverrides } from './limits.js';
export { type Logger, silentLogger } from './logger.js';
export { PYODIDE_LOCK_FILE, PYODIDE_VERSION, SDK_VERSION } from './version.js';
