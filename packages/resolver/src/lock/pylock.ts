// PEP 751 `pylock.toml`: written after every resolve, read back to install without resolving.
// Only the keys this tool needs are modelled; the rest of a foreign lock is checked loosely.
import { readFile } from 'node:fs/promises';
import { issuePath, writeFileAtomic } from '@pyworkers/common';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ResolverError } from '../errors.js';
import { normalizeName } from '../requirement.js';
import { type TomlValue, tomlLines } from './toml-write.js';

/** One wheel of a locked package. */
export interface LockedWheel {
  /** The wheel's file name. */
  name: string;
  url: string;
  size?: number;
  /** By algorithm, lowercase hex (PEP 751 requires at least one). */
  hashes: Record<string, string>;
}

/** One package of a lock. */
export interface LockedPackage {
  name: string;
  version: string;
  /** The simple index it came from (absent for Pyodide's own packages, which have no index). */
  index?: string;
  requiresPython?: string;
  /** Names of its dependencies in this lock. */
  dependencies: string[];
  wheels: LockedWheel[];
}

/** What a lock was made from: when these match, the lock is reused without resolving. */
export interface LockInputs {
  /** The project's requirements as resolved (PEP 508 strings, sorted). */
  requirements: string[];
  /** Index URLs searched, in order. */
  indexes: string[];
  strategy: string;
  /** Pyodide version (or lock identity) the lock targets. */
  pyodide: string;
}

/** A `pylock.toml` as this package reads and writes it. */
export interface Pylock {
  requiresPython?: string;
  createdBy: string;
  environments?: string[];
  packages: LockedPackage[];
  /** `[tool.pyworkers]`: present in locks this package wrote. */
  inputs?: LockInputs;
}

/** The marker written to `environments`: the lock is for Pyodide only. */
export const PYODIDE_ENVIRONMENT = "sys_platform == 'emscripten' and platform_machine == 'wasm32'";

const hashes = z.record(z.string(), z.string().regex(/^[0-9a-fA-F]+$/));
const wheelSchema = z.object({
  name: z.string().optional(),
  url: z.string().optional(),
  path: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  hashes,
});
const packageSchema = z.object({
  name: z.string().min(1),
  version: z.string().optional(),
  index: z.string().optional(),
  'requires-python': z.string().optional(),
  dependencies: z.array(z.object({ name: z.string() }).passthrough()).default([]),
  wheels: z.array(wheelSchema).default([]),
});
const pylockSchema = z.object({
  'lock-version': z.string().regex(/^1\.\d+$/, 'only lock-version 1.x is understood'),
  'created-by': z.string(),
  'requires-python': z.string().optional(),
  environments: z.array(z.string()).optional(),
  packages: z.array(packageSchema).default([]),
  tool: z
    .object({
      pyworkers: z
        .object({
          requirements: z.array(z.string()),
          indexes: z.array(z.string()),
          strategy: z.string(),
          pyodide: z.string(),
        })
        .optional(),
    })
    .passthrough()
    .optional(),
});

/** Formats a lock as PEP 751 TOML with a stable layout (packages sorted by name). */
export function formatPylock(lock: Pylock): string {
  const head = tomlLines({
    'lock-version': '1.0',
    environments: lock.environments,
    'requires-python': lock.requiresPython,
    extras: [],
    'dependency-groups': [],
    'default-groups': [],
    'created-by': lock.createdBy,
  });
  const packages = [...lock.packages]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => {
      const wheels: TomlValue[] = p.wheels.map((w) => ({
        name: w.name,
        url: w.url,
        ...(w.size !== undefined ? { size: w.size } : {}),
        hashes: w.hashes,
      }));
      return `[[packages]]\n${tomlLines({
        name: p.name,
        version: p.version,
        'requires-python': p.requiresPython,
        index: p.index,
        dependencies: p.dependencies.map((name) => ({ name })),
        wheels,
      })}`;
    });
  const tool = lock.inputs
    ? `[tool.pyworkers]\n${tomlLines({
        pyodide: lock.inputs.pyodide,
        strategy: lock.inputs.strategy,
        indexes: lock.inputs.indexes,
        requirements: lock.inputs.requirements,
      })}`
    : undefined;
  return `${[head, ...packages, tool].filter(Boolean).join('\n\n')}\n`;
}

/**
 * Parses and checks a `pylock.toml`.
 * @param file used in error messages
 */
export function parsePylock(text: string, file = 'pylock.toml'): Pylock {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (cause) {
    throw new ResolverError(
      'ERR_LOCK',
      `${file} is not valid TOML: ${(cause as Error).message.split('\n')[0]}`,
      { cause },
    );
  }
  const parsed = pylockSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issuePath(issue.path).replace(/^\./, '');
    throw new ResolverError('ERR_LOCK', `${file}: ${where || '(top level)'}: ${issue.message}`);
  }
  const d = parsed.data;
  const packages = d.packages.map((p, i): LockedPackage => {
    const wheels = p.wheels.map((w, j): LockedWheel => {
      const url = w.url ?? w.path;
      if (!url) {
        throw new ResolverError(
          'ERR_LOCK',
          `${file}: packages[${i}].wheels[${j}] has neither url nor path`,
        );
      }
      if (Object.keys(w.hashes).length === 0) {
        throw new ResolverError('ERR_LOCK', `${file}: packages[${i}].wheels[${j}] has no hashes`);
      }
      return {
        name: w.name ?? decodeURIComponent(url.split('/').pop() ?? ''),
        url,
        ...(w.size !== undefined ? { size: w.size } : {}),
        hashes: Object.fromEntries(Object.entries(w.hashes).map(([k, v]) => [k, v.toLowerCase()])),
      };
    });
    if (!p.version) {
      throw new ResolverError('ERR_LOCK', `${file}: packages[${i}] (${p.name}) has no version`);
    }
    return {
      name: normalizeName(p.name),
      version: p.version,
      ...(p.index ? { index: p.index } : {}),
      ...(p['requires-python'] ? { requiresPython: p['requires-python'] } : {}),
      dependencies: p.dependencies.map((x) => normalizeName(x.name)),
      wheels,
    };
  });
  const inputs = d.tool?.pyworkers;
  return {
    createdBy: d['created-by'],
    ...(d['requires-python'] ? { requiresPython: d['requires-python'] } : {}),
    ...(d.environments ? { environments: d.environments } : {}),
    packages,
    ...(inputs ? { inputs } : {}),
  };
}

/** Reads a `pylock.toml`, or null when there is none. */
export async function readPylock(path: string): Promise<Pylock | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cause;
  }
  return parsePylock(text, path);
}

/** Writes a `pylock.toml` atomically (temp file + rename). */
export async function writePylock(path: string, lock: Pylock): Promise<void> {
  await writeFileAtomic(path, formatPylock(lock));
}
