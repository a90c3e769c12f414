// HTTP front

// Errors
export { RouterError, type RouterErrorCode } from './errors.js';
export { type BundleSource, IsolatePool, type PoolStats } from './pool.js';
export { createRouter, type Router, type RouterOptions, type WorkerDefinition } from './router.js';
// Routing and pools
export { type Route, type RouteEntry, RouteTable } from './routes.js';
