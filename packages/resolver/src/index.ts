// Sync (the one call a CLI needs)

export type { SyncProgressEvent } from './progress.js';
export { isRuntimeProvided, RUNTIME_PROVIDED } from './provided.js';
export { type SyncOptions, type SyncResult, syncProject } from './sync.js';

// pyproject.toml and requirements (PEP 508)

export {
  evaluateMarker,
  type MarkerEnvironment,
  type PyodideLockInfo,
  parseMarker,
  pyodideMarkerEnvironment,
} from './markers.js';
export { type PyprojectDependencies, readPyprojectDependencies } from './pyproject.js';
export { normalizeName, parseRequirement, type Requirement } from './requirement.js';

// Indexes and package sources (PEP 503/691 clients, wheel directories, Pyodide's lock)

export {
  type IndexConfig,
  type IndexConfigInput,
  type IndexDefinition,
  PYPI_URL,
  resolveIndexConfig,
} from './index-config.js';
export { type CreateSourceOptions, createSource } from './package-index/create-source.js';
export { parseHtmlPage, parseJsonPage } from './package-index/project-page.js';
export {
  SIMPLE_ACCEPT,
  type SimpleIndexOptions,
  SimpleIndexSource,
} from './package-index/simple-index.js';
export { type WheelDirOptions, WheelDirSource } from './package-index/wheel-dir.js';
export {
  type PyodideLock,
  PyodideLockSource,
  type PyodideLockSourceOptions,
  type PyodidePackage,
  parsePyodideLock,
  pyodideCdnUrl,
  readPyodideLock,
} from './pyodide-lock.js';
export type { CoreMetadata, DistFile, PackageSource, ProjectPage } from './source.js';

// Resolving

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
export {
  createTagPolicy,
  parseWheelFilename,
  pyodideTags,
  type TagCheck,
  type TagPolicy,
  type WheelFilename,
} from './tags.js';

// Locking (pylock.toml written, uv.lock honoured)

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

// Downloads, wheels and vendoring into python_modules/

export {
  type DownloadedFile,
  Downloader,
  type DownloaderOptions,
  type DownloadItem,
} from './download.js';
export {
  INSTALL_MARKER,
  type InstallOptions,
  type InstallResult,
  type InstallWheel,
  installWheels,
  lockedSetHash,
} from './vendor.js';
export { openWheel, verifiedFiles, type Wheel } from './wheel/wheel.js';
export { openZip, type ZipArchive, type ZipEntry, type ZipLimits } from './wheel/zip.js';

// Errors and logging

export { isResolverError, ResolverError, type ResolverErrorCode } from './errors.js';
export type { Logger } from './logger.js';
