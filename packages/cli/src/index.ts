// Commands as functions
export { type BuildProjectOptions, type BuildResult, buildProject } from './commands/build.js';
export { type ServeOptions, type Serving, serveProjects } from './commands/serve.js';
// Errors and logging
export { CliError, type CliErrorCode } from './errors.js';
export { createCliLogger } from './logger.js';
export { main } from './main.js';
// Projects
export { loadProject, type Project, projectFiles } from './project.js';
