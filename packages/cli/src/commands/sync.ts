import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Logger, PYODIDE_LOCK_FILE, silentLogger } from '@pyworkers/isolate';
import {
  type IndexStrategy,
  isResolverError,
  type SyncOptions,
  type SyncResult,
  syncProject,
} from '@pyworkers/resolver';
import { CliError } from '../errors.js';
import {
  type Command,
  type CommandContext,
  type CommandOption,
  pick,
  pickList,
  pickString,
  projectDir,
} from '../internal/command.js';
import type { Progress, ProgressTask } from '../internal/progress.js';
import { lineOf } from '../internal/toml-scan.js';

/** How several indexes are consulted (uv's `--index-strategy`). */
export type { IndexStrategy, SyncResult };

const INDEX_STRATEGIES: IndexStrategy[] = [
  'first-index',
  'unsafe-first-match',
  'unsafe-best-match',
];

type SyncProgressEvent = Parameters<NonNullable<SyncOptions['onProgress']>>[0];

/** Options of {@link syncDependencies}: the sync flags. */
export interface SyncFlags {
  upgrade?: boolean;
  offline?: boolean;
  indexUrl?: string;
  extraIndexUrls?: string[];
  indexStrategy?: IndexStrategy;
  cacheDir?: string;
  logger?: Logger;
  progress?: Progress;
}

/**
 * Resolves `[project].dependencies` for the Pyodide platform, writes `pylock.toml` and vendors
 * `python_modules/`.
 * @example await syncDependencies('.', { offline: true });
 */
export async function syncDependencies(dir: string, flags: SyncFlags = {}): Promise<SyncResult> {
  const tasks = new Map<string, ProgressTask>();
  let resolving: ProgressTask | undefined;
  try {
    return await syncProject({
      projectDir: resolve(dir),
      pyodideLockFile: PYODIDE_LOCK_FILE,
      ...(flags.indexUrl ? { indexUrl: flags.indexUrl } : {}),
      ...(flags.extraIndexUrls?.length ? { extraIndexUrls: flags.extraIndexUrls } : {}),
      ...(flags.indexStrategy ? { indexStrategy: flags.indexStrategy } : {}),
      ...(flags.upgrade ? { upgrade: true } : {}),
      ...(flags.offline ? { offline: true } : {}),
      ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
      logger: flags.logger ?? silentLogger,
      onProgress(event: SyncProgressEvent) {
        const progress = flags.progress;
        if (!progress?.enabled) return;
        if (event.type === 'resolve-start') resolving = progress.task('resolving');
        else if (event.type === 'resolve-done') resolving?.done();
        else if (event.type === 'download-start')
          tasks.set(event.name, progress.task(`${event.name} ${event.version}`, event.total));
        else if (event.type === 'download-progress')
          tasks.get(event.name)?.update(event.bytes, event.total);
        else if (event.type === 'download-done') {
          tasks.get(event.name)?.done();
          tasks.delete(event.name);
        }
      },
    });
  } catch (err) {
    if (isResolverError(err) && err.userError) {
      const file = join(resolve(dir), 'pyproject.toml');
      const line = existsSync(file)
        ? lineOf(readFileSync(file, 'utf8'), ['project', 'dependencies'])
        : undefined;
      throw new CliError('ERR_PROJECT', err.message, {
        where: line ? `${file}:${line} ([project].dependencies)` : file,
        ...(err.hint ? { hint: err.hint } : {}),
        cause: err,
      });
    }
    throw err;
  } finally {
    resolving?.done();
    for (const t of tasks.values()) t.done();
  }
}

/**
 * Whether `build` must sync first: python_modules/ or pylock.toml is missing, or older than
 * pyproject.toml / uv.lock.
 */
export function needsSync(dir: string, dependencies: string[]): boolean {
  const modules = join(dir, 'python_modules');
  const lock = join(dir, 'pylock.toml');
  // No dependencies and nothing vendored: nothing to do. Vendored packages with no
  // dependencies left (edited by hand) still need a sync to be cleared.
  if (dependencies.length === 0 && !existsSync(modules)) return false;
  if (!existsSync(modules) || !existsSync(lock)) return true;
  const stamp = statSync(lock).mtimeMs;
  return ['pyproject.toml', 'uv.lock'].some((f) => {
    const p = join(dir, f);
    return existsSync(p) && statSync(p).mtimeMs > stamp;
  });
}

/** The sync flags (sync, add, remove, build, dev). */
export const syncOptions = {
  upgrade: {
    type: 'boolean',
    default: false,
    description: 'ignore pinned versions in the lock and resolve again',
    env: ['PYWORKERS_UPGRADE'],
  },
  offline: {
    type: 'boolean',
    default: false,
    description: 'no network: only the cache, file:// and local sources',
    env: ['PYWORKERS_OFFLINE', 'UV_OFFLINE'],
  },
  'index-url': {
    type: 'string',
    default: 'https://pypi.org/simple',
    description: 'the package index (also [[tool.uv.index]], UV_INDEX_URL, PIP_INDEX_URL)',
    env: ['PYWORKERS_INDEX_URL'],
    valueName: 'URL',
  },
  'extra-index-url': {
    type: 'string',
    multiple: true,
    default: undefined,
    description: 'another index to look in, repeatable (also UV_EXTRA_INDEX_URL)',
    env: ['PYWORKERS_EXTRA_INDEX_URL'],
    valueName: 'URL',
  },
  'index-strategy': {
    type: 'string',
    default: 'unsafe-best-match',
    description: `how several indexes are used: ${INDEX_STRATEGIES.join(', ')}`,
    env: ['PYWORKERS_INDEX_STRATEGY', 'UV_INDEX_STRATEGY'],
    valueName: 'S',
  },
  'cache-dir': {
    type: 'string',
    default: '~/.cache/pyworkers',
    description: 'download cache',
    env: ['PYWORKERS_CACHE_DIR'],
    valueName: 'DIR',
  },
} satisfies Record<string, CommandOption>;

/** The sync flags from flags, then env. */
export function syncFlags(values: Record<string, unknown>, ctx: CommandContext): SyncFlags {
  const strategy = pickString(values['index-strategy'], syncOptions['index-strategy'].env);
  if (strategy !== undefined && !INDEX_STRATEGIES.includes(strategy as IndexStrategy)) {
    throw new CliError('ERR_USAGE', `--index-strategy "${strategy}" is not known`, {
      where: values['index-strategy'] !== undefined ? '--index-strategy' : 'environment',
      hint: `use one of ${INDEX_STRATEGIES.join(', ')}`,
    });
  }
  const flags: SyncFlags = {
    upgrade: pick(values.upgrade, syncOptions.upgrade.env, false),
    offline: pick(values.offline, syncOptions.offline.env, false),
    logger: ctx.logger,
    progress: ctx.progress,
  };
  const indexUrl = pickString(values['index-url'], syncOptions['index-url'].env);
  if (indexUrl) flags.indexUrl = indexUrl;
  const extra = pickList(values['extra-index-url'], syncOptions['extra-index-url'].env);
  if (extra) flags.extraIndexUrls = extra;
  if (strategy) flags.indexStrategy = strategy as IndexStrategy;
  const cacheDir = pickString(values['cache-dir'], syncOptions['cache-dir'].env);
  if (cacheDir) flags.cacheDir = cacheDir;
  return flags;
}

/** One line saying what a sync did. */
export function describeSync(result: SyncResult): string {
  const n = result.packages.length;
  const what = `${n} package${n === 1 ? '' : 's'}`;
  // Cloudflare's SDK packages are the runtime's own `workers` module: said once, not fetched.
  const provided = result.provided?.length
    ? `; ${result.provided.join(', ')}: provided by the pyworkers runtime (not installed)`
    : '';
  if (!result.resolved && !result.installed) return `dependencies up to date (${what})${provided}`;
  const list = result.packages.map((p) => `${p.name}==${p.version}`).join(', ');
  return `${result.resolved ? 'resolved and ' : ''}installed ${what}${n ? `: ${list}` : ''}${provided}`;
}

/** `pyworkers sync` */
export const syncCommand = {
  name: 'sync',
  summary: 'resolve dependencies, write pylock.toml and vendor python_modules/',
  usage:
    'pyworkers sync [dir] [--upgrade] [--offline] [--index-url URL] [--extra-index-url URL] [--index-strategy S]',
  options: syncOptions,
  async run(ctx, values, positionals) {
    const result = await syncDependencies(projectDir(ctx, positionals[0]), syncFlags(values, ctx));
    ctx.print(result, describeSync(result));
  },
} satisfies Command;
