// Commands as functions

export { addRequirements } from './commands/add.js';
export {
  type BuildProjectOptions,
  type BuildResult,
  buildProject,
  type SnapshotStats,
} from './commands/build.js';
export { type DevOptions, type DevServer, startDev } from './commands/dev.js';
export { type InitOptions, type InitResult, initProject } from './commands/init.js';
export { removeRequirements } from './commands/remove.js';
export { type ServeOptions, type Serving, serveProjects } from './commands/serve.js';
export { inspectFile, type SnapshotReport } from './commands/snapshot-inspect.js';
export {
  type IndexStrategy,
  type SyncFlags,
  type SyncResult,
  syncDependencies,
} from './commands/sync.js';
export { main } from './main.js';

// Projects and their templates

export { loadProject, type Project, type ProjectOverrides, projectFiles } from './project.js';
export { TEMPLATES, type Template } from './templates.js';

// Editing pyproject.toml

export { addDependencies, type DependencyEdit, removeDependencies } from './dependency-edit.js';
export type { DependencyChange } from './edit-and-sync.js';

// Errors and logging

export { CliError, type CliErrorCode, isCliError } from './errors.js';
export {
  type CliLoggerOptions,
  createCliLogger,
  defaultLogFormat,
  formatPretty,
  type LogFormat,
} from './logger.js';
