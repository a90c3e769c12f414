// Store and per-worker bindings

// Bindings
export {
  type AssetRequest,
  type AssetResponse,
  type AssetsOptions,
  type AssetsResponder,
  assetContentType,
  createAssetsResponder,
  type HtmlHandling,
  type NotFoundHandling,
} from './assets.js';
export { type CronSchedule, parseCron } from './cron.js';
export { D1Database, type D1Meta, type D1Result } from './d1.js';
export {
  applyMigrations,
  type D1Migration,
  DEFAULT_MIGRATIONS_TABLE,
  listMigrations,
} from './d1-migrations.js';
export {
  type BindingDeclaration,
  bindingDeclarationSchema,
  parseDeclarations,
} from './declarations.js';
// Storage engine
export {
  createSqliteEngine,
  type Durability,
  SqliteEngine,
  type SqliteEngineOptions,
} from './engine/sqlite-engine.js';
export type {
  BlobStore,
  QueryOptions,
  SqlDatabase,
  SqlResult,
  SqlStatement,
  SqlValue,
  StorageEngine,
} from './engine/types.js';
// Errors
export { BindingError, type BindingErrorCode, isBindingError } from './errors.js';
export { KV_LIMITS, type KvListKey, type KvListResult, KvNamespace } from './kv.js';
// Logging
export { type Logger, silentLogger } from './logger.js';
// Durable Objects storage
export {
  type AlarmRun,
  AlarmScheduler,
  type AlarmSchedulerOptions,
} from './objects/alarm-scheduler.js';
export { idFromName, idFromString, isIdOf, newUniqueId } from './objects/ids.js';
export {
  applyDurableObjectMigrations,
  type DurableObjectMigration,
  durableObjectMigrationSchema,
} from './objects/migrations.js';
export {
  type DurableObjectNamespaceOptions,
  DurableObjectNamespaceStore,
  durableObjectNamespace,
} from './objects/namespace.js';
export type { SqlCursorData } from './objects/sql.js';
export {
  ALARM_RETRY,
  type AlarmState,
  type DurableObjectListOptions,
  DurableObjectStorage,
  DurableObjectTransaction,
} from './objects/storage.js';
export { callStorage, STORAGE_METHODS } from './objects/storage-calls.js';
export { DO_STORAGE_LIMITS } from './objects/storage-limits.js';
export {
  QUEUE_LIMITS,
  type QueueConsumerSettings,
  type QueueContentType,
  type QueueMessage,
  type QueueSettlement,
  QueueStore,
} from './queues.js';
export { R2Bucket } from './r2.js';
export { R2Multipart } from './r2-multipart.js';
export {
  R2_LIMITS,
  type R2HttpMetadata,
  type R2ListResult,
  type R2ObjectBodyData,
  type R2ObjectData,
} from './r2-types.js';
export {
  type BindingCall,
  type Bindings,
  createBindings,
  openStore,
  Store,
  type StoreOptions,
} from './store.js';
