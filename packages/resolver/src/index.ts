// Requirements (PEP 508)

// Errors
export { ResolverError, type ResolverErrorCode } from './errors.js';
// pyproject.toml
export { type PyprojectDependencies, readPyprojectDependencies } from './pyproject.js';
export { normalizeName, parseRequirement, type Requirement } from './requirement.js';
