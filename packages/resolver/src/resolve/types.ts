import type { DistFile, PackageSource } from '../source.js';

/** uv's `--index-strategy`: which indexes a project's versions may come from. */
export type IndexStrategy = 'first-index' | 'unsafe-first-match' | 'unsafe-best-match';

/** What the resolver must know about the target interpreter (Pyodide), injected so tests can vary it. */
export interface ResolverPlatform {
  /** `python_full_version` of the target, e.g. `3.13.2`. */
  pythonVersion: string;
  /** Evaluates a PEP 508 marker for the target; `extra` is the extra being resolved, if any. */
  markerMatches(marker: string, extra?: string): boolean;
  /** Preference of a wheel file name on the target (higher is better), or null when it cannot be installed there. */
  wheelRank(filename: string): number | null;
  /** Why a wheel cannot be installed (for error messages), when the platform can say. */
  wheelRejection?(filename: string): string | undefined;
}

/** The sources a resolve draws from, in priority order. */
export interface SourceSet {
  /** Searched for every project (user indexes first, then the default index, then Pyodide's set). */
  sources: PackageSource[];
  /** Projects pinned to one source (`[tool.uv.sources] pkg = { index = "…" }`): only that source is used. */
  pinned?: Map<string, PackageSource>;
  strategy: IndexStrategy;
}

/** One installable version of a project: the wheel that will be installed and where it came from. */
export interface Candidate {
  name: string;
  version: string;
  source: PackageSource;
  /** The best wheel for the platform. */
  wheel: DistFile;
  /** Every installable wheel of this version on that source, best first. */
  wheels: DistFile[];
  yanked: boolean | string;
  prerelease: boolean;
}

/** Why one version of a project cannot be used at all. */
export interface VersionRejection {
  version: string;
  source: string;
  reason: string;
}

/** Everything the resolver knows about one project's versions. */
export interface ProjectCandidates {
  name: string;
  /** Installable versions in preference order (see the strategy). */
  candidates: Candidate[];
  rejected: VersionRejection[];
  /** Sources that were asked, in order. */
  searched: string[];
  /** Whether any source had the project at all. */
  found: boolean;
}
