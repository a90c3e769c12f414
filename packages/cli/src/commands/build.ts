import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomicSync as writeFileAtomic } from '@pyworkers/common';
import {
  BUNDLE_FORMAT_VERSION,
  type BundleEncoding,
  baselinePath,
  buildBundle,
  decodeBundle,
  IsolateError,
  isIsolateError,
  type Logger,
  PYODIDE_VERSION,
  SDK_VERSION,
  type SnapshotBuilder,
  silentLogger,
} from '@pyworkers/isolate';
import { inspectSnapshot, SNAPSHOT_FORMAT_VERSION } from '@pyworkers/snapshot';
import { checkBindingRefs } from '../config/binding-refs.js';
import { CliError } from '../errors.js';
import {
  type Command,
  type CommandContext,
  configOptions,
  configOverrides,
  pick,
  pickString,
  projectDir,
} from '../internal/command.js';
import type { Progress } from '../internal/progress.js';
import { mapIsolatePaths } from '../internal/tracebacks.js';
import { loadProject, type Project, type ProjectOverrides, projectFiles } from '../project.js';
import {
  describeSync,
  needsSync,
  type SyncFlags,
  type SyncResult,
  syncDependencies,
  syncFlags,
  syncOptions,
} from './sync.js';

/** Options of {@link buildProject}. */
export interface BuildProjectOptions {
  /** Output directory (default `<project>/.pyworkers`). */
  out?: string;
  /** Rebuild even when the inputs did not change. */
  force?: boolean;
  /** Settings that win over the config files. */
  overrides?: ProjectOverrides;
  /** Sync flags; a sync runs first when dependencies are not vendored yet. */
  sync?: SyncFlags;
  logger?: Logger;
  progress?: Progress;
  /**
   * How the bundle is compressed (default `compact`; `pyworkers build`: `small`, `dev`: `fast`).
   * A bundle of the same inputs compressed at least as much is reused.
   */
  encoding?: BundleEncoding;
  /** This process serves what it builds (dev): the snapshot's heap is kept for its first load. */
  keepImage?: boolean;
  /** Runs the top level in an isolate kept waiting for it (dev: a rebuild boots nothing). */
  builder?: SnapshotBuilder;
}

/** Statistics of a bundle's dedicated snapshot. */
export interface SnapshotStats {
  fileBytes: number;
  heapBytes: number;
  pyodideVersion: string;
  pythonVersion: string;
  importedModules: number;
  codec: string;
  /** Share of 4 KiB heap pages that are all zero (stored as nothing). */
  zeroPageRatio: number;
}

/** What a build produced. */
export interface BuildResult {
  name: string;
  bundlePath: string;
  bytes: number;
  /** The bundle's contents (what `bundlePath` holds), in memory already: built or read. */
  bundleBytes: Uint8Array;
  /** False when an up-to-date bundle was reused. */
  built: boolean;
  ms: number;
  files: number;
  snapshot: SnapshotStats | null;
  /** Set when the build synced dependencies first. */
  sync?: SyncResult;
  /** The project as loaded (routes, limits, ...). */
  project: Project;
}

/** A bundle's snapshot statistics, and the modules its top level imported (decoded once). */
function snapshotInfo(
  bundleBytes: Uint8Array,
  source: string,
): { stats: SnapshotStats; imported: string[] } | null {
  const bundle = decodeBundle(bundleBytes, source);
  if (!bundle.snapshot) return null;
  const info = inspectSnapshot(bundle.snapshot);
  const stats = {
    fileBytes: info.fileBytes,
    heapBytes: info.heapBytes,
    pyodideVersion: info.meta.pyodideVersion,
    pythonVersion: info.meta.pythonVersion,
    importedModules: info.meta.importedModules.length,
    codec: info.codec,
    zeroPageRatio: info.pages.total ? info.pages.zero / info.pages.total : 0,
  };
  return { stats, imported: info.meta.importedModules };
}

function snapshotStats(bundleBytes: Uint8Array, source: string): SnapshotStats | null {
  return snapshotInfo(bundleBytes, source)?.stats ?? null;
}

/** Identifies the cached baseline cheaply (size and mtime), or `none` before it is made. */
function baselineStamp(): string {
  try {
    const st = statSync(baselinePath());
    return `${st.size}-${st.mtimeMs}`;
  } catch {
    return 'none';
  }
}

/**
 * Builds a project's bundle (with its dedicated snapshot) unless an up-to-date one exists,
 * syncing dependencies first when they are not vendored yet.
 * @example const { bundlePath } = await buildProject('apps/edge/workers/hello');
 */
export async function buildProject(
  dir: string,
  options: BuildProjectOptions = {},
): Promise<BuildResult> {
  const t0 = performance.now();
  const logger = options.logger ?? silentLogger;
  let project = loadProject(dir, options.overrides);
  for (const w of project.warnings) logger.warn({ worker: project.name }, w);
  let sync: SyncResult | undefined;
  if (options.sync && needsSync(project.dir, project.dependencies)) {
    sync = await syncDependencies(project.dir, { logger, ...options.sync });
    logger.info({ worker: project.name }, describeSync(sync));
    project = loadProject(dir, options.overrides);
  }
  const { files, mainModule, sourceRoot, dependencies } = projectFiles(project);
  checkBindingRefs({
    sourceRoot,
    projectDir: project.dir,
    declared: project.declaredNames,
    configPath: project.wranglerPath ?? project.pyprojectPath,
  });
  // The inputs, with a stamp of the cached baseline: the snapshot ships as a delta against it,
  // so a new baseline (cache cleared, another machine) means a rebuild.
  const inputsHash = (): string => {
    const hash = createHash('sha256');
    hash.update(
      JSON.stringify({
        PYODIDE_VERSION,
        SDK_VERSION,
        BUNDLE_FORMAT_VERSION,
        SNAPSHOT_FORMAT_VERSION,
        name: project.name,
        mainModule,
        vars: project.vars,
        limits: project.limits,
        bindings: project.bindings,
        baseline: baselineStamp(),
      }),
    );
    for (const [path, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b)))
      hash.update(path).update(bytes);
    return hash.digest('hex');
  };
  const inputHash = inputsHash();
  const encoding = options.encoding ?? 'compact';
  const outDir = resolve(options.out ?? join(project.dir, '.pyworkers'));
  const bundlePath = join(outDir, `${project.name}.pwb`);
  const hashPath = `${bundlePath}.inputs`;
  const result = (
    bytes: Uint8Array,
    built: boolean,
    snapshot: SnapshotStats | null,
  ): BuildResult => ({
    name: project.name,
    bundlePath,
    files: files.size,
    project,
    ...(sync ? { sync } : {}),
    bytes: bytes.length,
    bundleBytes: bytes,
    built,
    ms: performance.now() - t0,
    snapshot,
  });
  if (
    !options.force &&
    existsSync(bundlePath) &&
    existsSync(hashPath) &&
    reusable(readFileSync(hashPath, 'utf8'), inputHash, encoding)
  ) {
    const bytes = new Uint8Array(readFileSync(bundlePath));
    // A bundle this pyworkers cannot read (another format) is rebuilt, not reported.
    const info = (() => {
      try {
        return snapshotInfo(bytes, bundlePath);
      } catch {
        return undefined;
      }
    })();
    if (info !== undefined) {
      // A rebuild will import the same dependencies: the builder's waiting isolate can now.
      if (options.builder && info) options.builder.prime(files, dependencies, info.imported);
      return result(bytes, false, info?.stats ?? null);
    }
  }
  logger.debug({ worker: project.name, files: files.size }, 'building bundle and snapshot');
  const task = options.progress?.task(`snapshotting ${project.name}`);
  let bytes: Uint8Array;
  try {
    bytes = await buildBundle(
      {
        name: project.name,
        mainModule,
        files,
        vars: project.vars,
        // The worker's limits travel in its bundle; the isolate applies them over its defaults.
        limits: {
          requestTimeoutMs: project.limits.requestTimeoutMs,
          memoryBytes: project.limits.memoryMb * 1024 * 1024,
        },
        bindings: project.bindings,
        dependencies,
      },
      {
        logger,
        encoding,
        ...(options.builder ? { builder: options.builder } : {}),
        ...(options.keepImage ? { keepImage: true } : {}),
      },
    );
  } catch (err) {
    // Point the traceback of a failing top level at the user's files, not the isolate's.
    if (isIsolateError(err)) {
      const message = mapIsolatePaths(err.message, { sourceRoot, projectDir: project.dir });
      throw new IsolateError(err.code, message, {
        cause: err,
        userError: err.userError,
        ...(err.hint ? { hint: err.hint } : {}),
      });
    }
    throw err;
  } finally {
    task?.done();
  }
  writeFileAtomic(bundlePath, bytes);
  // Hashed again: a first build on an empty cache made the baseline it is stamped with.
  writeFileAtomic(hashPath, `${inputsHash()} ${encoding}`);
  return result(bytes, true, snapshotStats(bytes, bundlePath));
}

/** Encodings from the least to the most compressed. */
const ENCODINGS: readonly BundleEncoding[] = ['fast', 'compact', 'small'];

/**
 * Whether a bundle whose `.inputs` file reads `stamp` serves a build of `inputHash` asked for
 * as `encoding`: the same inputs, compressed at least as much (a `small` bundle serves `serve`
 * and `dev` as it is; a `fast` one is rebuilt for `pyworkers build`).
 */
function reusable(stamp: string, inputHash: string, encoding: BundleEncoding): boolean {
  const [hash, built] = stamp.split(' ');
  const rank = ENCODINGS.indexOf(built as BundleEncoding);
  return hash === inputHash && rank >= 0 && rank >= ENCODINGS.indexOf(encoding);
}

const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

/** The human lines of a build result. */
export function describeBuild(result: BuildResult, ctx: CommandContext): string {
  const c = ctx.color;
  const head = result.built ? c.green('built') : c.dim('up to date');
  const lines = [
    `${head} ${c.bold(result.name)} ${c.dim('->')} ${result.bundlePath}`,
    `  bundle   ${mib(result.bytes)}, ${result.files} file${result.files === 1 ? '' : 's'}, ${Math.round(result.ms)} ms`,
  ];
  const s = result.snapshot;
  if (s)
    lines.push(
      `  snapshot ${mib(s.fileBytes)} (heap ${mib(s.heapBytes)}, ${Math.round(100 * s.zeroPageRatio)}% zero pages, codec ${s.codec}), Pyodide ${s.pyodideVersion}, Python ${s.pythonVersion}, ${s.importedModules} modules imported at build time`,
    );
  else lines.push('  snapshot none');
  return lines.join('\n');
}

/** `pyworkers build [dir] [--out DIR] [--force] [--encoding small|compact|fast]` */
export const buildCommand = {
  name: 'build',
  summary: 'sync if needed, then build the bundle and its dedicated snapshot',
  usage: 'pyworkers build [dir] [--out DIR] [--force] [--encoding small|compact|fast]',
  options: {
    out: {
      type: 'string',
      default: '<dir>/.pyworkers',
      description: 'output directory',
      env: ['PYWORKERS_OUT'],
      valueName: 'DIR',
    },
    force: {
      type: 'boolean',
      default: false,
      description: 'rebuild even when nothing changed',
      env: ['PYWORKERS_FORCE'],
    },
    encoding: {
      type: 'string',
      default: 'small',
      description:
        'small (for shipping: smallest, slowest to build), compact (what serve builds) or fast (uncompressed, as dev builds)',
      env: ['PYWORKERS_ENCODING'],
      valueName: 'KIND',
    },
    ...configOptions,
    ...syncOptions,
  },
  async run(ctx, values, positionals) {
    const out = pickString(values.out, ['PYWORKERS_OUT']);
    const encoding = pick(values.encoding, ['PYWORKERS_ENCODING'], 'small');
    if (!(ENCODINGS as readonly string[]).includes(encoding)) {
      throw new CliError(
        'ERR_USAGE',
        `--encoding must be small, compact or fast, got "${encoding}"`,
        { where: '--encoding / PYWORKERS_ENCODING', hint: 'e.g. --encoding compact' },
      );
    }
    const result = await buildProject(projectDir(ctx, positionals[0]), {
      ...(out ? { out: resolve(ctx.cwd, out) } : {}),
      force: pick(values.force, ['PYWORKERS_FORCE'], false),
      encoding: encoding as BundleEncoding,
      overrides: configOverrides(values),
      sync: syncFlags(values, ctx),
      logger: ctx.logger,
      progress: ctx.progress,
    });
    const { project, ...json } = result;
    ctx.print(json, describeBuild(result, ctx));
  },
} satisfies Command;
