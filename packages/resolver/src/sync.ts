// `syncProject`: pyproject.toml -> (reuse pylock.toml / uv.lock, or resolve) -> pylock.toml ->
// downloads (cached, hash-checked) -> python_modules/. The agreed interface is SYNC-API.md.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Downloader } from './download.js';
import { ResolverError } from './errors.js';
import { resolveIndexConfig } from './index-config.js';
import {
  type LockedPackage,
  type LockInputs,
  PYODIDE_ENVIRONMENT,
  readPylock,
  writePylock,
} from './lock/pylock.js';
import { parseUvLock, uvLockInstallSet, uvLockMatches, uvLockPreferences } from './lock/uv-lock.js';
import { type Logger, silentLogger } from './logger.js';
import type { SyncProgressEvent } from './progress.js';
import { RUNTIME_PROVIDED } from './provided.js';
import { readPyprojectDependencies } from './pyproject.js';
import { normalizeName, type Requirement } from './requirement.js';
import { pyodidePlatform } from './resolve/platform.js';
import { resolve } from './resolve/resolver.js';
import type { IndexStrategy, ResolverPlatform } from './resolve/types.js';
import { matchesSpecifier } from './resolve/versions.js';
import { buildSources, loadPyodide } from './sync-sources.js';
import { installWheels } from './vendor.js';

/** Options of {@link syncProject} (see SYNC-API.md). */
export interface SyncOptions {
  /** Directory holding pyproject.toml (and maybe uv.lock / pylock.toml). */
  projectDir: string;
  /** --index-url: replaces the default index (PyPI). */
  indexUrl?: string;
  /** --extra-index-url (repeatable). */
  extraIndexUrls?: string[];
  /** --index-strategy; default 'unsafe-best-match'. */
  indexStrategy?: IndexStrategy;
  /** --upgrade: ignore existing lock pins and re-resolve. */
  upgrade?: boolean;
  /** --offline: no network; only cache, file:// and local sources. */
  offline?: boolean;
  /** Download cache (default: PYWORKERS_CACHE_DIR, else the user cache dir). */
  cacheDir?: string;
  /** Path of the pinned Pyodide's pyodide-lock.json. */
  pyodideLockFile: string;
  /** Base URL for Pyodide's own wheels; default the official CDN for the lock's version. */
  pyodidePackageBaseUrl?: string;
  /** --extra: optional-dependency groups of the project to install too. */
  extras?: string[];
  /** Environment for UV_* / PIP_* variables; default process.env. */
  env?: Record<string, string | undefined>;
  onProgress?: (event: SyncProgressEvent) => void;
  /** pino-compatible logger; default silent. */
  logger?: Logger;
}

/** Result of {@link syncProject}. */
export interface SyncResult {
  /** Path of the written pylock.toml. */
  lockPath: string;
  /** Path of python_modules/. */
  pythonModules: string;
  packages: { name: string; version: string; source: string }[];
  /** False when the lock (uv.lock or pylock.toml) was reused without resolving. */
  resolved: boolean;
  /** False when python_modules/ was already up to date (no-op). */
  installed: boolean;
  /**
   * The project's requirements the runtime satisfies itself (Cloudflare's `workers-runtime-sdk`
   * and `workers-py`), as written: never looked up on an index nor installed.
   */
  provided: string[];
}

/** A PEP 508 string of a parsed requirement, in one canonical spelling. */
function formatRequirement(r: Requirement): string {
  const extras = r.extras.length ? `[${[...r.extras].sort().join(',')}]` : '';
  return `${r.key}${extras}${r.specifier}${r.marker ? `; ${r.marker}` : ''}`;
}

function sameInputs(a: LockInputs, b: LockInputs): boolean {
  return (
    JSON.stringify([a.requirements, a.indexes, a.strategy, a.pyodide]) ===
    JSON.stringify([b.requirements, b.indexes, b.strategy, b.pyodide])
  );
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cause;
  }
}

/** The best wheel of a locked package for the platform. */
function pickWheel(pkg: LockedPackage, platform: ResolverPlatform, lockPath: string) {
  const best = pkg.wheels
    .map((w) => ({ w, rank: platform.wheelRank(w.name) }))
    .filter((x) => x.rank !== null)
    .sort((a, b) => b.rank! - a.rank!)[0];
  if (!best) {
    throw new ResolverError(
      'ERR_LOCK',
      `${lockPath}: ${pkg.name} ${pkg.version} has no wheel Pyodide can install`,
    );
  }
  return best.w;
}

/**
 * Makes `python_modules/` match the project's requirements for the pinned Pyodide: reuses
 * `pylock.toml` (when written from the same inputs) or `uv.lock` (when it matches pyproject.toml
 * and has Pyodide wheels), else resolves; writes `pylock.toml`; downloads (cached, hash-checked)
 * and installs the wheels. A repeated sync with nothing changed is a no-op.
 * @example await syncProject({ projectDir: '.', pyodideLockFile: PYODIDE_LOCK_FILE })
 */
export async function syncProject(options: SyncOptions): Promise<SyncResult> {
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  const emit = options.onProgress ?? (() => {});
  const pyprojectPath = join(options.projectDir, 'pyproject.toml');
  const lockPath = join(options.projectDir, 'pylock.toml');
  const pythonModules = join(options.projectDir, 'python_modules');

  const text = await readOptional(pyprojectPath);
  if (text === null) {
    throw new ResolverError(
      'ERR_PYPROJECT',
      `${pyprojectPath} not found: a project needs a pyproject.toml with [project] name and dependencies`,
    );
  }
  const project = readPyprojectDependencies(text, pyprojectPath);
  const extras = (options.extras ?? []).map(normalizeName);
  const known = Object.keys(project.optionalDependencies).map(normalizeName);
  for (const e of extras) {
    if (!known.includes(e)) {
      throw new ResolverError(
        'ERR_PYPROJECT',
        `${pyprojectPath}: the project has no extra "${e}" (known: ${known.join(', ') || 'none'}); add it under [project.optional-dependencies]`,
      );
    }
  }
  const config = resolveIndexConfig({
    pyproject: text,
    pyprojectPath,
    env,
    ...(options.indexUrl ? { indexUrl: options.indexUrl } : {}),
    ...(options.extraIndexUrls ? { extraIndexUrls: options.extraIndexUrls } : {}),
    ...(options.indexStrategy ? { indexStrategy: options.indexStrategy } : {}),
  });
  const pyodide = loadPyodide(options.pyodideLockFile, options.pyodidePackageBaseUrl);
  const platform = pyodidePlatform(pyodide.lock.info);
  if (project.requiresPython && !matchesSpecifier(platform.pythonVersion, project.requiresPython)) {
    throw new ResolverError(
      'ERR_PYPROJECT',
      `${pyprojectPath}: requires-python "${project.requiresPython}" excludes Python ${platform.pythonVersion} of the pinned Pyodide; widen requires-python`,
    );
  }
  // Extras may name the project itself (`all = ["demo[a,b]"]`): follow those to their groups.
  const requirements: Requirement[] = [];
  const selfKey = normalizeName(project.name);
  const seenExtras = new Set<string>();
  const provided: string[] = [];
  const addGroup = (reqs: Requirement[]): void => {
    for (const r of reqs) {
      if (r.key === selfKey) r.extras.forEach(addExtra);
      else if (RUNTIME_PROVIDED.has(r.key)) provided.push(formatRequirement(r));
      else requirements.push(r);
    }
  };
  const addExtra = (extra: string): void => {
    if (seenExtras.has(extra)) return;
    seenExtras.add(extra);
    const group = Object.entries(project.optionalDependencies).find(
      ([k]) => normalizeName(k) === extra,
    );
    addGroup(group?.[1] ?? []);
  };
  addGroup(project.dependencies);
  extras.forEach(addExtra);
  const downloader = new Downloader({
    env,
    offline: options.offline ?? false,
    onProgress: emit,
    logger,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  const sources = buildSources(config, pyodide, {
    downloader,
    logger,
    baseDir: options.projectDir,
  });
  const inputs: LockInputs = {
    requirements: requirements.map(formatRequirement).sort(),
    indexes: sources.all.map((s) => s.url),
    strategy: config.strategy,
    pyodide: pyodide.id,
  };

  let locked: LockedPackage[] | undefined;
  let reusedFrom: string | undefined;
  const preferences = new Map<string, string>();
  if (!options.upgrade) {
    const existing = await readPylock(lockPath);
    if (existing?.inputs && sameInputs(existing.inputs, inputs)) {
      locked = existing.packages;
      reusedFrom = lockPath;
    } else {
      for (const p of existing?.packages ?? []) preferences.set(p.name, p.version);
      const uvPath = join(options.projectDir, 'uv.lock');
      const uvText = await readOptional(uvPath);
      if (uvText !== null) {
        const uvLock = parseUvLock(uvText, uvPath);
        for (const [k, v] of uvLockPreferences(uvLock)) preferences.set(k, v);
        const match = uvLockMatches(uvLock, project);
        const set = match.ok
          ? uvLockInstallSet(uvLock, project.name, platform, extras, RUNTIME_PROVIDED)
          : match;
        if (set.ok) {
          locked = set.packages;
          reusedFrom = uvPath;
        } else
          logger.info(
            { reason: set.reason },
            'not using uv.lock as is; resolving with its pins preferred',
          );
      }
    }
  }

  let packages: LockedPackage[];
  if (locked) {
    logger.debug({ lock: reusedFrom }, 'reusing lock without resolving');
    packages = locked;
  } else {
    emit({ type: 'resolve-start' });
    const t0 = performance.now();
    const resolution = await resolve({
      requirements,
      sources: { sources: sources.searched, pinned: sources.pinned, strategy: config.strategy },
      platform,
      preferences,
      rootName: project.name,
      provided: RUNTIME_PROVIDED,
      logger,
    });
    emit({
      type: 'resolve-done',
      packages: resolution.packages.length,
      ms: Math.round(performance.now() - t0),
    });
    packages = resolution.packages.map((p) => ({
      name: p.name,
      version: p.version,
      ...(p.source === sources.pyodide ? {} : { index: p.source.url }),
      ...(p.requiresPython ? { requiresPython: p.requiresPython } : {}),
      dependencies: p.dependencies,
      wheels: [
        {
          name: p.wheel.filename,
          url: p.wheel.url,
          ...(p.wheel.size !== undefined ? { size: p.wheel.size } : {}),
          hashes: p.wheel.hashes,
        },
      ],
    }));
  }

  const chosen = packages.map((p) => ({
    pkg: p,
    wheel: pickWheel(p, platform, reusedFrom ?? lockPath),
  }));
  const files = await downloader.downloadAll(
    chosen.map(({ pkg, wheel }) => ({
      file: { filename: wheel.name, url: wheel.url, hashes: wheel.hashes },
      name: pkg.name,
      version: pkg.version,
    })),
  );
  if (reusedFrom !== lockPath) {
    // Hashes in the lock are the ones just checked (an index may not list any).
    await writePylock(lockPath, {
      createdBy: 'pyworkers',
      requiresPython:
        project.requiresPython ?? `==${platform.pythonVersion.split('.').slice(0, 2).join('.')}.*`,
      environments: [PYODIDE_ENVIRONMENT],
      packages: chosen.map(({ pkg, wheel }, i) => ({
        ...pkg,
        wheels: [
          { ...wheel, size: files[i]!.size, hashes: { ...wheel.hashes, sha256: files[i]!.sha256 } },
        ],
      })),
      inputs,
    });
  }

  const t1 = performance.now();
  const install = await installWheels({
    target: pythonModules,
    wheels: chosen.map(({ pkg }, i) => ({
      name: pkg.name,
      version: pkg.version,
      filename: files[i]!.filename,
      path: files[i]!.path,
      sha256: files[i]!.sha256,
    })),
    logger,
  });
  emit({ type: 'install-done', packages: chosen.length, ms: Math.round(performance.now() - t1) });
  return {
    lockPath,
    pythonModules,
    packages: chosen.map(({ pkg }) => ({
      name: pkg.name,
      version: pkg.version,
      source: pkg.index ?? sources.pyodide.url,
    })),
    resolved: !locked,
    installed: install.installed,
    provided: [...new Set(provided)].sort(),
  };
}
