// Store and per-worker bindings

// Bindings
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
export {
  type BindingCall,
  type Bindings,
  createBindings,
  openStore,
  Store,
  type StoreOptions,
} from './store.js';
