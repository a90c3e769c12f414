// Bindings (host side of the host-call channel)
export {
  type BindingsStore,
  BindingsWiring,
  hostDeclarations,
  type OpenStore,
  type WorkerBindingsHandle,
  type WorkerState,
} from './bindings/wiring.js';
// Status page and admin paths

export { ADMIN_PREFIX, isAdminPath } from './admin/access.js';
export type { HostLoad, RecentError, WorkerSeries } from './admin/history.js';
export type { HostStatus, SystemStatus, WorkerStatus } from './admin/status.js';

// HTTP front and routes

export { type RouterConfig, routerConfigSchema } from './config.js';
export {
  type BundleSource,
  createRouter,
  type Router,
  type RouterOptions,
  type RouterStatus,
  type WorkerDefinition,
  type WorkerStats,
} from './router.js';
export { type Route, type RouteEntry, RouteTable } from './routes.js';

// Worker-to-worker calls (service bindings)

export { type DeliveryContext, deliverCall, RPC_TAG } from './services/deliver.js';
export { serviceHostCalls } from './services/host-calls.js';
export {
  type OpenedBody,
  ServiceStreams,
  STREAM_CANCEL_METHOD,
  STREAM_IDLE_MS,
  STREAM_READ_METHOD,
} from './services/response-streams.js';
export type { CallTarget, ForwardCall, ForwardedCall } from './services/types.js';

// Isolate hosts (in-process and child processes) and launchers

export { ChildHost } from './host/child-host.js';
export { LocalHost, type LocalHostOptions } from './host/local-host.js';
export type {
  HostEvents,
  HostFetchOptions,
  HostResult,
  HostStats,
  HostWorker,
  HostWorkerStats,
  IsolateHost,
} from './host/types.js';
export { estimateIsolateBytes, type IsolateHandle, type Launcher } from './launcher.js';

// Placement and load

export { LoadTracker, type LoadTrackerOptions } from './load.js';
export {
  type BoundedLoadOptions,
  BoundedLoadPlacement,
  type LoadView,
  type PlacementPolicy,
  RandomPlacement,
} from './placement.js';
export { HashRing, hash32 } from './ring.js';

// Warm / evict

export {
  createEvictionPolicy,
  type EvictionPolicy,
  type EvictionPolicyName,
  FrequencyPolicy,
  type FrequencyPolicyOptions,
  LruPolicy,
} from './eviction.js';
export { type WarmIsolate, WarmSet } from './warm-set.js';

// Errors

export { isRouterError, RouterError, type RouterErrorCode } from './errors.js';
