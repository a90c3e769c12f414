// Requirements (PEP 508)

// Errors
export { ResolverError, type ResolverErrorCode } from './errors.js';
// Resolving and locking
export {
  type IndexConfig,
  type IndexConfigInput,
  type IndexDefinition,
  PYPI_URL,
  resolveIndexConfig,
} from './index-config.js';
export {
  formatPylock,
  type LockedPackage,
  type LockedWheel,
  type LockInputs,
  PYODIDE_ENVIRONMENT,
  type Pylock,
  parsePylock,
  readPylock,
  writePylock,
} from './lock/pylock.js';
export {
  parseUvLock,
  type UvLock,
  uvLockInstallSet,
  uvLockMatches,
  uvLockPreferences,
} from './lock/uv-lock.js';
// pyproject.toml
export { type PyprojectDependencies, readPyprojectDependencies } from './pyproject.js';
export { normalizeName, parseRequirement, type Requirement } from './requirement.js';
export { type MemoryProject, type MemoryRelease, MemorySource } from './resolve/memory-source.js';
export { pyodidePlatform } from './resolve/platform.js';
export {
  type Resolution,
  type ResolvedPackage,
  type ResolveOptions,
  resolve,
} from './resolve/resolver.js';
export type {
  Candidate,
  IndexStrategy,
  ProjectCandidates,
  ResolverPlatform,
  SourceSet,
  VersionRejection,
} from './resolve/types.js';
