import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ServeOptions, type Serving, serveProjects } from 'pyworkers';

/** The example workers' project directories under `workersDir`, in name order. */
export function workerDirs(workersDir: string): string[] {
  return readdirSync(workersDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(workersDir, d.name))
    .sort();
}

/** Builds (if needed) and serves every example worker through the whole pipeline. */
export function startEdge(workersDir: string, options: ServeOptions): Promise<Serving> {
  return serveProjects(workerDirs(workersDir), options);
}
