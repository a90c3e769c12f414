// Turns the project pages of several sources into one ordered list of installable versions,
// following uv's index strategies, and records why every other version was turned down
// (we never build from source, so an sdist-only release is a rejection with a reason).
import { ResolverError } from '../errors.js';
import type { DistFile, PackageSource, ProjectPage } from '../source.js';
import { parseDistFilename } from './filenames.js';
import type {
  Candidate,
  ProjectCandidates,
  ResolverPlatform,
  SourceSet,
  VersionRejection,
} from './types.js';
import {
  compareVersionsDesc,
  isPrerelease,
  isValidVersion,
  matchesSpecifier,
  versionKey,
} from './versions.js';

interface VersionFiles {
  version: string;
  files: DistFile[];
}

function groupByVersion(page: ProjectPage): VersionFiles[] {
  const groups = new Map<string, VersionFiles>();
  for (const file of page.files) {
    const parsed = parseDistFilename(file.filename, page.name);
    if (!parsed || !isValidVersion(parsed.version)) continue;
    const key = versionKey(parsed.version);
    let g = groups.get(key);
    if (!g) {
      g = { version: parsed.version, files: [] };
      groups.set(key, g);
    }
    g.files.push(file);
  }
  return [...groups.values()].sort((a, b) => compareVersionsDesc(a.version, b.version));
}

/** Picks the installable wheels of one version on one source, or says why there are none. */
function judgeVersion(
  name: string,
  group: VersionFiles,
  source: PackageSource,
  platform: ResolverPlatform,
): Candidate | VersionRejection {
  const reject = (reason: string): VersionRejection => ({
    version: group.version,
    source: source.name,
    reason,
  });
  const wheels = group.files.filter((f) => f.filename.endsWith('.whl'));
  if (wheels.length === 0) {
    return reject('only a source distribution (pyworkers installs wheels only and never builds)');
  }
  const usable = wheels
    .map((f) => ({ f, rank: platform.wheelRank(f.filename) }))
    .filter((x): x is { f: DistFile; rank: number } => x.rank !== null);
  if (usable.length === 0) {
    const why = [...new Set(wheels.map((w) => platform.wheelRejection?.(w.filename)))].filter(
      Boolean,
    );
    const tags = [...new Set(wheels.map((w) => parseDistFilename(w.filename, name)?.tag))];
    const shown =
      why.length > 0
        ? why.slice(0, 3).join('; ')
        : `wheels built for ${tags.slice(0, 3).join(', ')}${tags.length > 3 ? `, … (${tags.length} tags)` : ''}`;
    return reject(`no wheel for Pyodide (${shown})`);
  }
  const fitPython = usable.filter(
    (x) => !x.f.requiresPython || matchesSpecifier(platform.pythonVersion, x.f.requiresPython),
  );
  if (fitPython.length === 0) {
    return reject(
      `requires Python ${usable[0]!.f.requiresPython} (Pyodide has ${platform.pythonVersion})`,
    );
  }
  const live = fitPython.filter((x) => x.f.yanked === false);
  const pool = live.length > 0 ? live : fitPython;
  pool.sort((a, b) => b.rank - a.rank);
  const wheelsBest = pool.map((x) => x.f);
  return {
    name,
    version: group.version,
    source,
    wheel: wheelsBest[0]!,
    wheels: wheelsBest,
    yanked: live.length > 0 ? false : (pool[0]!.f.yanked as boolean | string) || true,
    prerelease: isPrerelease(group.version),
  };
}

/**
 * Lists a project's installable versions across `set` in preference order.
 * - `first-index`: only the first source that has the project.
 * - `unsafe-first-match`: every source, all versions of the first before any of the next; a
 *   version unusable on an earlier source is not looked at again on a later one.
 * - `unsafe-best-match`: every source, newest version first; when several sources have the same
 *   version, the first source that has an installable wheel for it wins (so a native package
 *   whose PyPI release has no Pyodide wheel is taken from Pyodide's set).
 */
export async function collectCandidates(
  name: string,
  set: SourceSet,
  platform: ResolverPlatform,
): Promise<ProjectCandidates> {
  const pinnedSource = set.pinned?.get(name);
  const sources = pinnedSource ? [pinnedSource] : set.sources;
  const strategy = pinnedSource ? 'first-index' : set.strategy;
  const pages: { source: PackageSource; page: ProjectPage }[] = [];
  const searched: string[] = [];
  // Offline, an index whose page is not cached is skipped, so what other sources have (Pyodide's
  // set, a local directory) still resolves; its error is raised only when nobody has the project.
  let offline: unknown;
  const ask = (source: PackageSource): Promise<ProjectPage | null> =>
    source.getProject(name).catch((e: unknown) => {
      if (!(e instanceof ResolverError) || e.code !== 'ERR_OFFLINE') throw e;
      offline ??= e;
      return null;
    });
  if (strategy === 'first-index') {
    for (const source of sources) {
      searched.push(source.name);
      const page = await ask(source);
      if (page && page.files.length > 0) {
        pages.push({ source, page });
        break;
      }
    }
  } else {
    searched.push(...sources.map((s) => s.name));
    const all = await Promise.all(sources.map(ask));
    all.forEach((page, i) => {
      if (page && page.files.length > 0) pages.push({ source: sources[i]!, page });
    });
  }
  if (pages.length === 0 && offline) throw offline;

  const candidates: Candidate[] = [];
  const rejected: VersionRejection[] = [];
  const decided = new Set<string>();
  const perSource = pages.map(({ source, page }) => ({
    source,
    groups: groupByVersion(page),
  }));

  if (strategy === 'unsafe-best-match') {
    const byVersion = new Map<
      string,
      { version: string; entries: Candidate[]; why: VersionRejection[] }
    >();
    for (const { source, groups } of perSource) {
      for (const g of groups) {
        const key = versionKey(g.version);
        let slot = byVersion.get(key);
        if (!slot) {
          slot = { version: g.version, entries: [], why: [] };
          byVersion.set(key, slot);
        }
        const verdict = judgeVersion(name, g, source, platform);
        if ('reason' in verdict) slot.why.push(verdict);
        else slot.entries.push(verdict);
      }
    }
    for (const slot of [...byVersion.values()].sort((a, b) =>
      compareVersionsDesc(a.version, b.version),
    )) {
      // Sources are visited in priority order, so entries[0] is the first usable source.
      const live = slot.entries.find((c) => c.yanked === false) ?? slot.entries[0];
      if (live) candidates.push(live);
      else rejected.push(...slot.why);
    }
  } else {
    for (const { source, groups } of perSource) {
      for (const g of groups) {
        const key = versionKey(g.version);
        if (decided.has(key)) continue;
        decided.add(key);
        const verdict = judgeVersion(name, g, source, platform);
        if ('reason' in verdict) rejected.push(verdict);
        else candidates.push(verdict);
      }
    }
  }
  return { name, candidates, rejected, searched, found: pages.length > 0 };
}
