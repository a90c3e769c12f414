import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  buildBundle,
  type Logger,
  PYODIDE_VERSION,
  SDK_VERSION,
  silentLogger,
} from '@pyworkers/isolate';
import { writeFileAtomic } from '../internal/atomic-write.js';
import { loadProject, projectFiles } from '../project.js';
import { type Command, type CommandContext, pick } from './command.js';

/** Options of {@link buildProject}. */
export interface BuildProjectOptions {
  /** Output directory (default `<project>/.pyworkers`). */
  out?: string;
  /** Rebuild even when the inputs did not change. */
  force?: boolean;
  logger?: Logger;
}

/** What a build produced. */
export interface BuildResult {
  name: string;
  bundlePath: string;
  bytes: number;
  /** False when an up-to-date bundle was reused. */
  built: boolean;
  ms: number;
}

/**
 * Builds a project's bundle (with its dedicated snapshot) unless an up-to-date one exists.
 * @example const { bundlePath } = await buildProject('apps/edge/workers/hello');
 */
export async function buildProject(
  dir: string,
  options: BuildProjectOptions = {},
): Promise<BuildResult> {
  const t0 = performance.now();
  const logger = options.logger ?? silentLogger;
  const project = loadProject(dir);
  for (const w of project.warnings) logger.warn({ worker: project.name }, w);
  const { files, mainModule } = projectFiles(project);
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      PYODIDE_VERSION,
      SDK_VERSION,
      name: project.name,
      mainModule,
      vars: project.vars,
    }),
  );
  for (const [path, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b)))
    hash.update(path).update(bytes);
  const inputHash = hash.digest('hex');
  const outDir = resolve(options.out ?? join(project.dir, '.pyworkers'));
  const bundlePath = join(outDir, `${project.name}.pwb`);
  const hashPath = `${bundlePath}.inputs`;
  if (
    !options.force &&
    existsSync(bundlePath) &&
    existsSync(hashPath) &&
    readFileSync(hashPath, 'utf8') === inputHash
  ) {
    return {
      name: project.name,
      bundlePath,
      bytes: readFileSync(bundlePath).length,
      built: false,
      ms: performance.now() - t0,
    };
  }
  logger.info({ worker: project.name }, 'building bundle and snapshot');
  const bytes = await buildBundle(
    { name: project.name, mainModule, files, vars: project.vars },
    { logger },
  );
  writeFileAtomic(bundlePath, bytes);
  writeFileAtomic(hashPath, inputHash);
  return {
    name: project.name,
    bundlePath,
    bytes: bytes.length,
    built: true,
    ms: performance.now() - t0,
  };
}

/** `pyworkers build [dir] [--out DIR] [--force]` */
export const buildCommand = {
  name: 'build',
  summary: 'build the bundle and its dedicated snapshot',
  usage: 'pyworkers build [dir] [--out DIR] [--force]',
  options: {
    out: {
      type: 'string',
      default: '',
      description: 'output directory (default <dir>/.pyworkers; env PYWORKERS_OUT)',
    },
    force: { type: 'boolean', default: false, description: 'rebuild even when nothing changed' },
  },
  async run(
    ctx: CommandContext,
    values: Record<string, unknown>,
    positionals: string[],
  ): Promise<void> {
    const out = pick(values.out, ['PYWORKERS_OUT'], '') || undefined;
    const result = await buildProject(positionals[0] ?? ctx.cwd, {
      ...(out ? { out } : {}),
      force: pick(values.force, ['PYWORKERS_FORCE'], false),
      logger: ctx.logger,
    });
    ctx.print(
      result,
      `${result.built ? 'built' : 'up to date'}: ${result.bundlePath} (${(result.bytes / 1048576).toFixed(1)} MiB, ${Math.round(result.ms)} ms)`,
    );
  },
} satisfies Command;
