// Requirements (PEP 508)

// Sources, downloads and install (index clients, Pyodide's lock, markers, tags, vendoring)
export {
  type DownloadedFile,
  Downloader,
  type DownloaderOptions,
  type DownloadItem,
  defaultCacheDir,
} from './download.js';
// Errors
export { ResolverError, type ResolverErrorCode } from './errors.js';
export { type CreateSourceOptions, createSource } from './index/create-source.js';
export { parseHtmlPage, parseJsonPage } from './index/project-page.js';
export { SIMPLE_ACCEPT, type SimpleIndexOptions, SimpleIndexSource } from './index/simple-index.js';
export { type WheelDirOptions, WheelDirSource } from './index/wheel-dir.js';
// Resolving and locking
export {
  type IndexConfig,
  type IndexConfigInput,
  type IndexDefinition,
  PYPI_URL,
  resolveIndexConfig,
} from './index-config.js';
export type { Logger } from './internal/logger.js';
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
export {
  evaluateMarker,
  type MarkerEnvironment,
  type PyodideLockInfo,
  parseMarker,
  pyodideMarkerEnvironment,
} from './markers.js';
export type { SyncProgressEvent } from './progress.js';
// Sync (the one call a CLI needs)
export { isRuntimeProvided, RUNTIME_PROVIDED } from './provided.js';
export {
  type PyodideLock,
  PyodideLockSource,
  type PyodideLockSourceOptions,
  type PyodidePackage,
  parsePyodideLock,
  pyodideCdnUrl,
  readPyodideLock,
} from './pyodide-lock.js';
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
export type { CoreMetadata, DistFile, PackageSource, ProjectPage } from './source.js';
export { type SyncOptions, type SyncResult, syncProject } from './sync.js';
export {
  createTagPolicy,
  parseWheelFilename,
  pyodideTags,
  type TagCheck,
  type TagPolicy,
  type WheelFilename,
} from './tags.js';
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
