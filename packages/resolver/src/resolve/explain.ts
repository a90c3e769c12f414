// Plain-words explanations of why a resolve failed: the conflicting chain, not a dump.
import type { Candidate, ProjectCandidates, VersionRejection } from './types.js';
import { matchesSpecifier } from './versions.js';

/** One requirement placed on a project during the search, and who placed it. */
export interface Constraint {
  /** `name` or `name[extra]`. */
  key: string;
  spec: string;
  /** The key whose pinned version asked for it; null for the project's own requirements. */
  parent: string | null;
  parentVersion?: string;
  /** How the parent came in, when it is not a direct requirement (`b 1.0 ← a 2.0`). */
  via?: string;
}

/** A dead end met during the search. */
export type Conflict =
  | { kind: 'empty'; key: string; constraints: Constraint[]; project: ProjectCandidates }
  | {
      kind: 'clash';
      key: string;
      spec: string;
      parent: string;
      parentVersion: string;
      via?: string;
      pinned: Candidate;
      pinnedBy: Constraint[];
    };

/** `fastapi 0.92.0`, `httpx[http2] 0.27.0`, or `your project`. */
export function who(parent: string | null, version?: string, root = 'your project'): string {
  return parent === null ? root : `${parent} ${version ?? ''}`.trim();
}

const through = (via: string | undefined): string => (via ? ` (pulled in by ${via})` : '');

function wants(c: Constraint, root: string): string {
  return `${who(c.parent, c.parentVersion, root)}${through(c.via)} needs ${c.key}${c.spec || ' (any version)'}`;
}

function listVersions(versions: string[], max = 6): string {
  return versions.length > max
    ? `${versions.slice(0, max).join(', ')}, … (${versions.length} in all)`
    : versions.join(', ');
}

/** Why no version of a project is usable: the versions looked at and why each was turned down. */
export function explainUnusable(project: ProjectCandidates): string {
  if (!project.found) {
    return `${project.name} was not found on any index (searched: ${project.searched.join(', ')})`;
  }
  const lines = project.rejected
    .slice(0, 8)
    .map((r) => `    ${project.name} ${r.version} (${r.source}): ${r.reason}`);
  if (project.rejected.length > 8) lines.push(`    … and ${project.rejected.length - 8} more`);
  return `${project.name} has no version pyworkers can install:\n${lines.join('\n')}`;
}

/** Versions that match every constraint but were turned down (sdist-only, native-only, ...). */
export function unusableMatches(conflict: Conflict): VersionRejection[] {
  if (conflict.kind !== 'empty') return [];
  const { project, constraints } = conflict;
  const admissible = project.candidates.some((c) =>
    constraints.every((k) => matchesSpecifier(c.version, k.spec)),
  );
  if (admissible) return [];
  return project.rejected.filter((r) =>
    constraints.every((k) => matchesSpecifier(r.version, k.spec)),
  );
}

/** One sentence (or a short block) per conflict. */
export function describeConflict(conflict: Conflict, root: string): string {
  if (conflict.kind === 'clash') {
    const because = conflict.pinnedBy.map((c) => wants(c, root)).join(' and ');
    return `${who(conflict.parent, conflict.parentVersion, root)}${through(conflict.via)} needs ${conflict.key}${conflict.spec}, but ${conflict.key} ${conflict.pinned.version} was already chosen (${because})`;
  }
  const { project, constraints } = conflict;
  if (project.candidates.length === 0) {
    const by = constraints.map((c) => who(c.parent, c.parentVersion, root));
    return `${[...new Set(by)].join(' and ')} need${by.length === 1 ? 's' : ''} ${conflict.key}, but ${explainUnusable(project)}`;
  }
  const parts = constraints.map((c) => wants(c, root));
  const unusable = unusableMatches(conflict);
  if (unusable.length > 0) {
    const lines = unusable.slice(0, 4).map((r) => `${r.version} (${r.source}): ${r.reason}`);
    return `${parts.join(', and ')}, but the matching versions cannot be installed: ${lines.join('; ')}`;
  }
  const available = listVersions(project.candidates.map((c) => c.version));
  // Versions that match but were left out by the yanked / pre-release rules deserve a word.
  const held = project.candidates
    .filter((c) => constraints.every((k) => matchesSpecifier(c.version, k.spec)))
    .map((c) =>
      c.yanked !== false
        ? `${c.version} is yanked${typeof c.yanked === 'string' ? ` (${c.yanked})` : ''}; pin it with == to use it anyway`
        : `${c.version} is a pre-release; ask for it explicitly (e.g. >=${c.version}) to use it`,
    );
  if (held.length > 0) {
    return `${parts.join(', and ')}, but the only matching versions are held back: ${held.slice(0, 3).join('; ')}`;
  }
  if (parts.length === 1) {
    return `${parts[0]}, but no usable version of ${project.name} matches (available: ${available})`;
  }
  return `${parts.slice(0, -1).join(', ')}, but ${parts.at(-1)}: no version of ${project.name} satisfies ${parts.length === 2 ? 'both' : 'all of them'} (available: ${available})`;
}
