// HTTP front
export { type RouterConfig, routerConfigSchema } from './config.js';
// Errors
export { RouterError, type RouterErrorCode } from './errors.js';
// Warm / evict
export {
  createEvictionPolicy,
  type EvictionPolicy,
  type EvictionPolicyName,
  FrequencyPolicy,
  type FrequencyPolicyOptions,
  LruPolicy,
} from './eviction.js';
// Isolate hosts
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
export { LoadTracker, type LoadTrackerOptions } from './load.js';
// Placement
export {
  type BoundedLoadOptions,
  BoundedLoadPlacement,
  type LoadView,
  type PlacementPolicy,
  RandomPlacement,
} from './placement.js';
export { HashRing, hash32 } from './ring.js';
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
export { type WarmIsolate, WarmSet } from './warm-set.js';
