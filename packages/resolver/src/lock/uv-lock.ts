// Reading uv's `uv.lock` (format version 1): when it was made from the same requirements as the
// pyproject.toml in front of us, its pins and hashes are installed without resolving, which is
// what a uv user expects. Only registry packages with a wheel for Pyodide can be taken over.
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issuePath } from '@pyworkers/common';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ResolverError } from '../errors.js';
import type { PyprojectDependencies } from '../pyproject.js';
import { normalizeName, type Requirement } from '../requirement.js';
import type { ResolverPlatform } from '../resolve/types.js';
import { matchesSpecifier } from '../resolve/versions.js';
import type { LockedPackage } from './pylock.js';

const depSchema = z
  .object({
    name: z.string(),
    extra: z.array(z.string()).default([]),
    marker: z.string().optional(),
    version: z.string().optional(),
  })
  .passthrough();
const requiresDistSchema = z
  .object({
    name: z.string(),
    specifier: z.string().optional(),
    marker: z.string().optional(),
    extras: z.array(z.string()).default([]),
    url: z.string().optional(),
    path: z.string().optional(),
    git: z.string().optional(),
    directory: z.string().optional(),
    editable: z.string().optional(),
  })
  .passthrough();
const fileSchema = z
  .object({
    url: z.string().optional(),
    path: z.string().optional(),
    filename: z.string().optional(),
    hash: z.string().optional(),
    size: z.number().optional(),
  })
  .passthrough();
const packageSchema = z
  .object({
    name: z.string(),
    version: z.string().optional(),
    source: z.record(z.string(), z.string()).default({}),
    dependencies: z.array(depSchema).default([]),
    'optional-dependencies': z.record(z.string(), z.array(depSchema)).default({}),
    wheels: z.array(fileSchema).default([]),
    metadata: z
      .object({
        'requires-dist': z.array(requiresDistSchema).default([]),
        'provides-extras': z.array(z.string()).default([]),
      })
      .passthrough()
      .optional(),
  })
  .passthrough();
const uvLockSchema = z
  .object({
    version: z.number().int(),
    'requires-python': z.string().optional(),
    package: z.array(packageSchema).default([]),
  })
  .passthrough();

/** A parsed `uv.lock`. */
export type UvLock = z.infer<typeof uvLockSchema> & { path: string };
type UvPackage = z.infer<typeof packageSchema>;
type UvDep = z.infer<typeof depSchema>;

/** Parses a `uv.lock` (format version 1). */
export function parseUvLock(text: string, path = 'uv.lock'): UvLock {
  let doc: unknown;
  try {
    doc = parseToml(text);
  } catch (cause) {
    throw new ResolverError(
      'ERR_LOCK',
      `${path} is not valid TOML: ${(cause as Error).message.split('\n')[0]}; run \`uv lock\` again or delete it`,
      { cause },
    );
  }
  const parsed = uvLockSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ResolverError(
      'ERR_LOCK',
      `${path}: ${issuePath(issue.path).replace(/^\./, '') || '(top level)'}: ${issue.message}; run \`uv lock\` again or delete it`,
    );
  }
  if (parsed.data.version !== 1) {
    throw new ResolverError(
      'ERR_LOCK',
      `${path}: lock format version ${parsed.data.version} is not supported (only version 1)`,
    );
  }
  return { ...parsed.data, path };
}

const canonMarker = (m: string | undefined): string =>
  (m ?? '').replace(/"/g, "'").replace(/\s+/g, '').toLowerCase();
const canonSpec = (s: string | undefined): string =>
  (s ?? '')
    .split(',')
    .map((c) => c.replace(/\s+/g, ''))
    .filter(Boolean)
    .sort()
    .join(',');

function requirementKey(r: {
  name: string;
  specifier?: string;
  marker?: string;
  extras: string[];
}): string {
  const extras = r.extras.map(normalizeName).sort().join(',');
  return `${normalizeName(r.name)}[${extras}]${canonSpec(r.specifier)};${canonMarker(r.marker)}`;
}

function withExtra(r: Requirement, extra: string): string {
  const m = r.marker.trim();
  const clause = `extra == '${extra}'`;
  return m ? `${/\bor\b/.test(m) ? `(${m})` : m} and ${clause}` : clause;
}

/** The project's own entry in the lock (a virtual or editable package of the same name). */
function rootOf(lock: UvLock, project: string): UvPackage | undefined {
  const key = normalizeName(project);
  return lock.package.find(
    (p) =>
      normalizeName(p.name) === key &&
      ('virtual' in p.source || 'editable' in p.source || 'directory' in p.source),
  );
}

/**
 * Whether the lock was made from exactly these requirements (uv's own check: the root's
 * `requires-dist` against `[project].dependencies` and optional dependencies). On a mismatch the
 * reason says what differs.
 */
export function uvLockMatches(
  lock: UvLock,
  project: PyprojectDependencies,
): { ok: true } | { ok: false; reason: string } {
  const root = rootOf(lock, project.name);
  if (!root)
    return { ok: false, reason: `${lock.path} has no entry for the project ${project.name}` };
  const want = new Set([
    ...project.dependencies.map((r) => requirementKey({ ...r, specifier: r.specifier })),
    ...Object.entries(project.optionalDependencies).flatMap(([extra, list]) =>
      list.map((r) =>
        requirementKey({
          ...r,
          marker: withExtra(r, normalizeName(extra)),
          specifier: r.specifier,
        }),
      ),
    ),
  ]);
  const have = new Set((root.metadata?.['requires-dist'] ?? []).map((r) => requirementKey(r)));
  const missing = [...want].filter((k) => !have.has(k));
  const extra = [...have].filter((k) => !want.has(k));
  if (missing.length === 0 && extra.length === 0) return { ok: true };
  return {
    ok: false,
    reason: `${lock.path} is out of date with pyproject.toml (${[
      ...missing.map((k) => `new: ${k}`),
      ...extra.map((k) => `gone: ${k}`),
    ]
      .slice(0, 4)
      .join('; ')})`,
  };
}

/** Every version the lock pins, by normalised name: preferred versions when re-resolving. */
export function uvLockPreferences(lock: UvLock): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of lock.package) if (p.version) out.set(normalizeName(p.name), p.version);
  return out;
}

function fileUrl(
  lock: UvLock,
  f: z.infer<typeof fileSchema>,
  registry: string | undefined,
): string | undefined {
  if (f.url) return f.url;
  if (!f.path) return undefined;
  const base =
    registry && !/^[a-z]+:\/\//i.test(registry)
      ? resolvePath(dirname(lock.path), registry)
      : dirname(lock.path);
  return pathToFileURL(resolvePath(base, f.path)).href;
}

/**
 * The packages the lock installs on the platform, with the wheel to use for each: the root's
 * dependencies (plus `extras`), markers evaluated for Pyodide. Fails (with a reason) when a
 * package is not from a registry or has no wheel for Pyodide in the lock.
 */
export function uvLockInstallSet(
  lock: UvLock,
  project: string,
  platform: ResolverPlatform,
  extras: string[] = [],
  provided: ReadonlySet<string> = new Set(),
): { ok: true; packages: LockedPackage[] } | { ok: false; reason: string } {
  if (
    lock['requires-python'] &&
    !matchesSpecifier(platform.pythonVersion, lock['requires-python'])
  ) {
    return {
      ok: false,
      reason: `${lock.path} is for Python ${lock['requires-python']}, Pyodide has ${platform.pythonVersion}`,
    };
  }
  const root = rootOf(lock, project);
  if (!root) return { ok: false, reason: `${lock.path} has no entry for the project ${project}` };
  const find = (d: UvDep): UvPackage | undefined =>
    lock.package.find(
      (p) =>
        normalizeName(p.name) === normalizeName(d.name) && (!d.version || p.version === d.version),
    );
  const chosen = new Map<string, { pkg: UvPackage; deps: Set<string> }>();
  const queue: { pkg: UvPackage; extras: string[] }[] = [];
  const visit = (deps: UvDep[], from: Set<string> | undefined): string | undefined => {
    for (const d of deps) {
      if (d.marker && !platform.markerMatches(d.marker)) continue;
      // The runtime provides it: neither it nor what only it needs is installed.
      if (provided.has(normalizeName(d.name))) continue;
      const pkg = find(d);
      if (!pkg) return `${lock.path} names ${d.name} as a dependency but has no entry for it`;
      const name = normalizeName(pkg.name);
      from?.add(name);
      const seen = chosen.get(name);
      if (seen && seen.pkg.version !== pkg.version) {
        return `${lock.path} has two versions of ${name} for Pyodide`;
      }
      if (!seen) chosen.set(name, { pkg, deps: new Set() });
      queue.push({ pkg, extras: d.extra.map(normalizeName) });
    }
    return undefined;
  };
  const rootDeps = [
    ...root.dependencies,
    ...extras.flatMap((e) => root['optional-dependencies'][e] ?? []),
  ];
  const problem = visit(rootDeps, undefined);
  if (problem) return { ok: false, reason: problem };
  const expanded = new Set<string>();
  while (queue.length > 0) {
    const { pkg, extras: ex } = queue.shift()!;
    const name = normalizeName(pkg.name);
    const groups: [string, UvDep[]][] = [['', pkg.dependencies]];
    for (const e of ex) groups.push([e, pkg['optional-dependencies'][e] ?? []]);
    for (const [group, deps] of groups) {
      if (expanded.has(`${name}[${group}]`)) continue;
      expanded.add(`${name}[${group}]`);
      const p = visit(deps, chosen.get(name)!.deps);
      if (p) return { ok: false, reason: p };
    }
  }
  const packages: LockedPackage[] = [];
  for (const [name, { pkg, deps }] of chosen) {
    const registry = pkg.source.registry;
    if (!registry) {
      return {
        ok: false,
        reason: `${name} comes from a ${Object.keys(pkg.source)[0] ?? 'unknown'} source in ${lock.path}; only registry packages are taken over`,
      };
    }
    const wheels = pkg.wheels
      .map((f) => {
        const url = fileUrl(lock, f, registry);
        const filename =
          f.filename ?? (url ? decodeURIComponent(url.split('/').pop()!.split('#')[0]!) : '');
        return { f, url, filename, rank: url ? platform.wheelRank(filename) : null };
      })
      .filter((w) => w.rank !== null && w.f.hash && /^sha256:[0-9a-f]+$/i.test(w.f.hash))
      .sort((a, b) => b.rank! - a.rank!);
    const best = wheels[0];
    if (!best) {
      return {
        ok: false,
        reason: `${lock.path} has no wheel of ${name} ${pkg.version} for Pyodide`,
      };
    }
    packages.push({
      name,
      version: pkg.version ?? '',
      ...(/^[a-z]+:\/\//i.test(registry) ? { index: registry } : {}),
      dependencies: [...deps].sort(),
      wheels: [
        {
          name: best.filename,
          url: best.url!,
          ...(best.f.size !== undefined ? { size: best.f.size } : {}),
          hashes: { sha256: best.f.hash!.slice('sha256:'.length).toLowerCase() },
        },
      ],
    });
  }
  return { ok: true, packages: packages.sort((a, b) => a.name.localeCompare(b.name)) };
}
