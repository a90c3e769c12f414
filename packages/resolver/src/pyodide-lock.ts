// Pyodide's own package set as a package source: pyodide-lock.json (shipped in the `pyodide` npm
// package) gives names, versions, dependencies, file names and SHA-256s with no network at all;
// the wheels download from a base URL (default: the official CDN for that Pyodide version).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { issuePath } from '@pyworkers/common';
import { z } from 'zod';
import { ResolverError } from './errors.js';
import type { PyodideLockInfo } from './markers.js';
import { normalizeName } from './requirement.js';
import type { CoreMetadata, DistFile, PackageSource, ProjectPage } from './source.js';

const packageSchema = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  file_name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  depends: z.array(z.string()).default([]),
  package_type: z.string().default('package'),
  install_dir: z.string().default('site'),
  imports: z.array(z.string()).default([]),
});

const lockSchema = z.object({
  info: z.object({
    abi_version: z.string().min(1),
    arch: z.string().min(1),
    platform: z.string().min(1),
    python: z.string().regex(/^\d+\.\d+\.\d+/),
    version: z.string().optional(),
  }),
  packages: z.record(z.string(), packageSchema),
});

export type PyodidePackage = z.infer<typeof packageSchema>;

/** A parsed pyodide-lock.json. */
export interface PyodideLock {
  info: PyodideLockInfo;
  /** By PEP 503-normalised name. */
  packages: Map<string, PyodidePackage>;
  /** The Pyodide version (from the lock, or the `pyodide` package.json beside it). */
  version?: string;
  /** Where it was read from. */
  path: string;
}

/** Parses a pyodide-lock.json text. @param path used in messages and to find the version */
export function parsePyodideLock(text: string, path: string, version?: string): PyodideLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ResolverError(
      'ERR_PYODIDE_LOCK',
      `${path} is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issuePath(issue.path);
    throw new ResolverError(
      'ERR_PYODIDE_LOCK',
      `${path} is not a pyodide-lock.json: ${where || '(root)'}: ${issue.message}`,
    );
  }
  const packages = new Map<string, PyodidePackage>();
  for (const p of Object.values(parsed.data.packages)) packages.set(normalizeName(p.name), p);
  const { version: lockVersion, ...info } = parsed.data.info;
  const v = version ?? lockVersion;
  return { info, packages, path, ...(v ? { version: v } : {}) };
}

/**
 * Reads a pyodide-lock.json; the Pyodide version comes from the `pyodide` package.json beside
 * it when the lock does not state it.
 * @example readPyodideLock(PYODIDE_LOCK_FILE) // from @pyworkers/isolate
 */
export function readPyodideLock(path: string): PyodideLock {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ResolverError(
      'ERR_PYODIDE_LOCK',
      `cannot read the Pyodide lock file ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  let version: string | undefined;
  try {
    const pkg = JSON.parse(readFileSync(join(dirname(path), 'package.json'), 'utf8')) as {
      name?: string;
      version?: string;
    };
    if (pkg.name === 'pyodide' && typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // No package.json beside it: the lock's own info.version, or an explicit base URL, must do.
  }
  return parsePyodideLock(text, path, version);
}

/** The official CDN folder of a Pyodide version's packages. */
export function pyodideCdnUrl(version: string): string {
  return `https://cdn.jsdelivr.net/pyodide/v${version}/full/`;
}

export interface PyodideLockSourceOptions {
  /** Where the wheels download from (default: {@link pyodideCdnUrl} of the lock's version). */
  baseUrl?: string;
  /** Source name in messages and locks (default `pyodide`). */
  name?: string;
}

/** Pyodide's package set for the pinned version. Only its wheels are offered. */
export class PyodideLockSource implements PackageSource {
  readonly name: string;
  readonly url: string;
  readonly baseUrl: string;
  readonly #lock: PyodideLock;
  readonly #byFile: Map<string, PyodidePackage>;

  constructor(lock: PyodideLock, options: PyodideLockSourceOptions = {}) {
    const base = options.baseUrl ?? (lock.version ? pyodideCdnUrl(lock.version) : undefined);
    if (!base) {
      throw new ResolverError(
        'ERR_PYODIDE_LOCK',
        `${lock.path} does not say which Pyodide version it belongs to, so its wheels' URL is unknown; pass a package base URL (pyodidePackageBaseUrl)`,
      );
    }
    this.baseUrl = base.endsWith('/') ? base : `${base}/`;
    this.#lock = lock;
    this.#byFile = new Map([...lock.packages.values()].map((p) => [p.file_name, p]));
    this.name = options.name ?? 'pyodide';
    this.url = `pyodide-lock:${lock.version ?? lock.info.python}`;
  }

  #wheel(name: string): PyodidePackage | undefined {
    const p = this.#lock.packages.get(normalizeName(name));
    // Shared libraries and unvendored test bundles are .zip files Pyodide loads itself.
    return p && p.package_type === 'package' && p.file_name.endsWith('.whl') ? p : undefined;
  }

  async getProject(name: string): Promise<ProjectPage | null> {
    const p = this.#wheel(name);
    if (!p) return null;
    const file: DistFile = {
      filename: p.file_name,
      url: new URL(p.file_name, this.baseUrl).href,
      hashes: { sha256: p.sha256 },
      yanked: false,
      source: this.name,
      version: p.version,
    };
    return { name: normalizeName(p.name), files: [file], source: this.name };
  }

  async getMetadata(file: DistFile): Promise<CoreMetadata> {
    const p = this.#byFile.get(file.filename);
    if (!p) {
      throw new ResolverError('ERR_PYODIDE_LOCK', `${file.filename} is not in ${this.#lock.path}`, {
        userError: false,
      });
    }
    return {
      name: p.name,
      version: p.version,
      // Dependencies on shared libraries are not wheels: Pyodide provides them itself.
      requiresDist: p.depends.filter((d) => this.#wheel(d)).map(normalizeName),
      providesExtra: [],
    };
  }
}
