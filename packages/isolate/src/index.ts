// Isolates and their launcher

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

// Events other than fetch (cron triggers, queue batches, RPC calls)

export type {
  EventOutcome,
  EventResultFor,
  QueueEvent,
  QueueMessage,
  QueueMessageOutcome,
  QueueResult,
  RpcError,
  RpcEvent,
  RpcResult,
  ScheduledEvent,
  ScheduledResult,
  WorkerEvent,
  WorkerEventResult,
} from './events.js';

// Limits and what an isolate holds

export {
  DEFAULT_LIMITS,
  type IsolateLimits,
  type MemoryReport,
  type WorkerLimitOverrides,
} from './limits.js';

// Builds, baselines and bundles

export {
  type BaselineOptions,
  baselinePath,
  loadBaseline,
  makeBaselineSnapshot,
} from './baseline.js';
export {
  type AssetsConfig,
  assetsConfigSchema,
  type BindingDeclaration,
  bindingDeclarationSchema,
  type DurableObjectsConfig,
  durableObjectMigrationSchema,
  durableObjectsConfigSchema,
  type QueueConsumer,
  queueConsumerSchema,
  type WorkerBindings,
  workerBindingsSchema,
} from './bindings.js';
export { type BuildInput, type BuildOptions, type BundleEncoding, buildBundle } from './build.js';
export {
  BUNDLE_FORMAT_VERSION,
  type Bundle,
  type BundleFilesCodec,
  type BundleManifest,
  bundleManifestSchema,
  decodeBundle,
  type EncodeBundleOptions,
  encodeBundle,
  isBundle,
} from './bundle.js';
export {
  type BuildDependencies,
  type BuildJob,
  type BuildThread,
  SnapshotBuilder,
  type SnapshotBuilderOptions,
} from './snapshot-builder.js';

// Where files appear inside an isolate

export { SDK_DIR, WORKER_DIR } from './mount-paths.js';

// The host-call channel (bindings reach the host through it)

export {
  HOST_CALL_FAILED,
  type HostCall,
  type HostCallError,
  type HostCallHandler,
  hostCallError,
} from './host-call.js';

// WebSocket sessions (accepted upgrades) across a hop

export {
  isWebSocketMessage,
  type WebSocketMessage,
  type WebSocketPeer,
  WebSockets,
} from './websocket.js';

// Streamed bodies: the types and the credit-window helpers the router's IPC hop reuses

export {
  type Body,
  type BodyMessage,
  type BodyStream,
  BodyStreams,
  type ChunkOwner,
  INLINE_BODY_BYTES,
  IPC_STREAM_WINDOW_BYTES,
  isBodyMessage,
  isBodyStream,
  lendChunk,
  readWhole,
  releaseChunk,
  STREAM_WINDOW_BYTES,
} from './body-stream.js';
export {
  BufferPool,
  bodyBufferPool,
  isSmall,
  POOL_BUFFER_BYTES,
  RESPONSE_BUFFER_BYTES,
} from './buffer-pool.js';

// Errors

export { IsolateError, type IsolateErrorCode, isIsolateError } from './errors.js';
export { corkTurn, frameParser, readFrames, writeFrame } from './frames.js';
export { type LaneFrame, lanePath } from './internal/protocol.js';
export { errorFromThread } from './internal/thread-error.js';

// Logging and versions

export { type Logger, silentLogger } from './logger.js';
export { PYODIDE_LOCK_FILE, PYODIDE_VERSION, SDK_VERSION } from './version.js';
