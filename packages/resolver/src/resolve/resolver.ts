// A backtracking resolver in the style of pip's resolvelib: pin one project at a time,
// newest (or the lock's pin) first; reject a candidate at once when one of its dependencies
// clashes with a pin or leaves a project without any admissible version; and on a dead end jump
// straight back to the most recent pin that took part in it (conflict-directed backjumping),
// which keeps the common failing cases from trying every combination of unrelated projects.
import { ResolverError } from '../errors.js';
import { parseRequirement, type Requirement } from '../requirement.js';
import type { DistFile, PackageSource } from '../source.js';
import { collectCandidates } from './candidates.js';
import {
  type Conflict,
  type Constraint,
  describeConflict,
  explainUnusable,
  unusableMatches,
} from './explain.js';
import type { Candidate, ProjectCandidates, ResolverPlatform, SourceSet } from './types.js';
import {
  matchesSpecifier,
  pinsExactly,
  specifierAllowsPrereleases,
  versionKey,
} from './versions.js';

/** pino-compatible logger (only the levels the resolver uses). */
export interface ResolveLogger {
  debug(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

/** Input of {@link resolve}. */
export interface ResolveOptions {
  /** The project's requirements (markers are evaluated for the platform). */
  requirements: Requirement[];
  sources: SourceSet;
  platform: ResolverPlatform;
  /** Versions to try first (e.g. the pins of an existing lock), by normalised name. */
  preferences?: ReadonlyMap<string, string>;
  /** Candidate pins tried before giving up with `ERR_RESOLVE_BUDGET`; default 20000. */
  maxSteps?: number;
  /** The project's own name: used in messages, and self-references are dropped. */
  rootName?: string;
  /** Projects satisfied without installing anything (the runtime provides them), by normalised name. */
  provided?: ReadonlySet<string>;
  logger?: ResolveLogger;
}

/** One project of a resolution. */
export interface ResolvedPackage {
  name: string;
  version: string;
  source: PackageSource;
  /** The wheel to install. */
  wheel: DistFile;
  /** All installable wheels of that version on that source, best first. */
  wheels: DistFile[];
  /** Extras of this project that were asked for. */
  extras: string[];
  /** Names of the projects it depends on (on this platform). */
  dependencies: string[];
  requiresPython?: string;
}

/** The result of {@link resolve}: packages sorted by name. */
export interface Resolution {
  packages: ResolvedPackage[];
  /** Candidate pins tried (a measure of backtracking). */
  steps: number;
}

interface Dep {
  key: string;
  spec: string;
}

interface Expanded {
  deps: Dep[];
  requiresPython?: string;
}

const baseOf = (key: string): string => key.replace(/\[.*$/, '');
const extraOf = (key: string): string | undefined => /\[(.+)\]$/.exec(key)?.[1];

function depsOfRequirement(r: Requirement): Dep[] {
  if (r.url) {
    throw new ResolverError(
      'ERR_REQUIREMENT',
      `"${r.name} @ ${r.url}": direct URL requirements are not supported yet; publish the wheel to an index (a local directory of wheels works as an index: file:///path) and require it by name`,
    );
  }
  return [
    { key: r.key, spec: r.specifier },
    ...r.extras.map((e) => ({ key: `${r.key}[${e}]`, spec: r.specifier })),
  ];
}

class Search {
  readonly pins = new Map<string, Candidate>();
  readonly constraints = new Map<string, Constraint[]>();
  readonly firstSeen = new Map<string, number>();
  readonly projects = new Map<string, Promise<ProjectCandidates>>();
  readonly expanded = new Map<string, Promise<Expanded | string>>();
  readonly conflicts: Conflict[] = [];
  readonly backtracks = new Map<string, number>();
  private readonly prefetched = new Set<string>();
  steps = 0;
  private seen = 0;

  constructor(private readonly o: ResolveOptions) {}

  get root(): string {
    return this.o.rootName ?? 'your project';
  }

  project(name: string): Promise<ProjectCandidates> {
    let p = this.projects.get(name);
    if (!p) {
      p = collectCandidates(name, this.o.sources, this.o.platform);
      this.projects.set(name, p);
    }
    return p;
  }

  /** The dependencies of a candidate pinned under `key`, or why the candidate is unusable. */
  expand(key: string, cand: Candidate): Promise<Expanded | string> {
    const id = `${key}@${cand.wheel.url}`;
    let p = this.expanded.get(id);
    if (!p) {
      p = this.readDeps(key, cand);
      this.expanded.set(id, p);
      // A prefetch may never be awaited; its failure resurfaces when it is.
      p.catch(() => {});
    }
    return p;
  }

  private async readDeps(key: string, cand: Candidate): Promise<Expanded | string> {
    const md = await cand.source.getMetadata(cand.wheel);
    const { platform } = this.o;
    if (md.requiresPython && !matchesSpecifier(platform.pythonVersion, md.requiresPython)) {
      return `requires Python ${md.requiresPython} (Pyodide has ${platform.pythonVersion})`;
    }
    const reqs: Requirement[] = [];
    for (const line of md.requiresDist) {
      try {
        reqs.push(parseRequirement(line));
      } catch {
        return `its metadata has an invalid Requires-Dist line: ${line}`;
      }
    }
    const extra = extraOf(key);
    const self = baseOf(key);
    const keep = (r: Requirement) =>
      r.key !== self && r.key !== this.o.rootName && !this.o.provided?.has(r.key);
    if (!extra) {
      const deps = reqs
        .filter((r) => keep(r) && (!r.marker || platform.markerMatches(r.marker)))
        .flatMap(depsOfRequirement);
      return { deps, ...(md.requiresPython ? { requiresPython: md.requiresPython } : {}) };
    }
    const pin: Dep = { key: self, spec: `==${cand.version}` };
    const provides = md.providesExtra.map((e) => e.toLowerCase().replace(/[-_.]+/g, '-'));
    if (!provides.includes(extra)) {
      this.o.logger?.warn(
        { package: self, version: cand.version, extra },
        `${self} ${cand.version} does not provide the extra "${extra}"`,
      );
      return { deps: [pin] };
    }
    const extraDeps = reqs
      .filter(
        (r) =>
          r.marker && platform.markerMatches(r.marker, extra) && !platform.markerMatches(r.marker),
      )
      .flatMap((r) =>
        r.key === self
          ? r.extras.map((e) => ({ key: `${self}[${e}]`, spec: `==${cand.version}` }))
          : depsOfRequirement(r),
      );
    return { deps: [pin, ...extraDeps] };
  }

  /** Versions of `key` allowed by its constraints (pre-release and yanked rules applied). */
  admissible(
    key: string,
    project: ProjectCandidates,
    cons: Constraint[],
    limit = Number.POSITIVE_INFINITY,
  ): Candidate[] {
    // Each rule is a test of one candidate, so callers that need one answer stop early: most
    // (version, specifier) pairs are then never evaluated, which is most of a resolve's CPU.
    const specs = cons.map((c) => c.spec);
    const allowPre =
      specs.some(specifierAllowsPrereleases) || project.candidates.every((c) => c.prerelease);
    const base = key !== baseOf(key) ? this.pins.get(baseOf(key)) : undefined;
    const out: Candidate[] = [];
    for (const c of project.candidates) {
      if (out.length >= limit) break;
      if (c.prerelease && !allowPre) continue;
      if (base && versionKey(c.version) !== versionKey(base.version)) continue;
      if (!specs.every((s) => matchesSpecifier(c.version, s))) continue;
      if (c.yanked !== false && !specs.some((s) => pinsExactly(s, c.version))) continue;
      out.push(c);
    }
    return out;
  }

  /** How `key` came to be required, as `b 1.0 ← a 2.0` (empty when the project asks for it). */
  chain(key: string): string {
    const out: string[] = [];
    const seen = new Set<string>([key]);
    let k = key;
    for (let depth = 0; depth < 4; depth++) {
      const cons = this.constraints.get(k) ?? [];
      if (cons.length === 0 || cons.some((c) => c.parent === null)) break;
      const parent = cons[0]!.parent!;
      if (seen.has(parent)) break;
      seen.add(parent);
      out.push(`${parent} ${this.pins.get(parent)?.version ?? ''}`.trim());
      k = parent;
    }
    return out.join(' ← ');
  }

  /** Constraints with how each parent came in, for messages. */
  annotate(cons: Constraint[]): Constraint[] {
    return cons.map((c) => {
      const via = c.parent === null ? '' : this.chain(c.parent);
      return via ? { ...c, via } : c;
    });
  }

  /** Keys whose pins caused the constraints on `key` (the culprits when it runs dry). */
  culprits(key: string, cons: Constraint[]): string[] {
    const out = cons.flatMap((c) => (c.parent === null ? [] : [c.parent]));
    if (key !== baseOf(key) && this.pins.has(baseOf(key))) out.push(baseOf(key));
    return out;
  }

  private addConstraints(parent: string | null, version: string | undefined, deps: Dep[]): void {
    for (const d of deps) {
      let list = this.constraints.get(d.key);
      if (!list) {
        list = [];
        this.constraints.set(d.key, list);
      }
      list.push({
        key: d.key,
        spec: d.spec,
        parent,
        ...(version ? { parentVersion: version } : {}),
      });
      if (!this.firstSeen.has(d.key)) this.firstSeen.set(d.key, this.seen++);
    }
  }

  private removeConstraints(parent: string): void {
    for (const [key, list] of this.constraints) {
      const kept = list.filter((c) => c.parent !== parent);
      if (kept.length === 0) {
        this.constraints.delete(key);
        this.firstSeen.delete(key);
      } else this.constraints.set(key, kept);
    }
  }

  private tick(): void {
    this.steps++;
    const max = this.o.maxSteps ?? 20000;
    if (this.steps > max) {
      const worst = [...this.backtracks.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([k, n]) => `${k} (${n} backtracks)`);
      throw new ResolverError(
        'ERR_RESOLVE_BUDGET',
        `gave up resolving after trying ${max} versions without finding a solution; most backtracked: ${worst.join(', ') || 'none'}. Narrow those requirements in pyproject.toml (e.g. a lower bound) so fewer combinations need trying`,
      );
    }
  }

  /** Checks a candidate's dependencies against the current pins and constraints. */
  private async check(
    key: string,
    cand: Candidate,
    deps: Dep[],
  ): Promise<{ ok: true } | { ok: false; culprits: string[] }> {
    const projects = await Promise.all(deps.map((d) => this.project(baseOf(d.key))));
    for (const [i, d] of deps.entries()) {
      const pinned = this.pins.get(d.key);
      if (pinned) {
        if (matchesSpecifier(pinned.version, d.spec)) continue;
        const via = this.chain(key);
        this.conflicts.push({
          kind: 'clash',
          key: d.key,
          spec: d.spec,
          parent: key,
          parentVersion: cand.version,
          ...(via ? { via } : {}),
          pinned,
          pinnedBy: this.annotate(this.constraints.get(d.key) ?? []),
        });
        return { ok: false, culprits: [d.key] };
      }
      const cons = [
        ...(this.constraints.get(d.key) ?? []),
        { key: d.key, spec: d.spec, parent: key, parentVersion: cand.version },
      ];
      if (this.admissible(d.key, projects[i]!, cons, 1).length === 0) {
        const via = this.chain(key);
        this.conflicts.push({
          kind: 'empty',
          key: d.key,
          constraints: this.annotate(cons).map((c) =>
            c.parent === key && via ? { ...c, via } : c,
          ),
          project: projects[i]!,
        });
        return { ok: false, culprits: this.culprits(d.key, cons).filter((k) => k !== key) };
      }
    }
    return { ok: true };
  }

  /** Picks the next project to pin: exact pins first, then breadth-first, then by name. */
  private async next(): Promise<string | undefined> {
    const pending = [...this.constraints.keys()].filter((k) => !this.pins.has(k));
    if (pending.length === 0) return undefined;
    // Start fetching the pages of new projects, and the metadata of each one's first choice, in
    // parallel: over a network this is what makes a resolve fast. Each key is prefetched once.
    const fresh = pending.filter((k) => !this.prefetched.has(k));
    for (const k of fresh) this.prefetched.add(k);
    await Promise.all(
      fresh.map(async (k) => {
        const project = await this.project(baseOf(k));
        const cons = this.constraints.get(k);
        if (!cons) return;
        const pref = this.o.preferences?.get(baseOf(k));
        const first = pref
          ? this.ordered(k, this.admissible(k, project, cons))[0]
          : this.admissible(k, project, cons, 1)[0];
        if (first) void this.expand(k, first);
      }),
    );
    let best: string | undefined;
    let bestScore: [number, number] = [2, 0];
    for (const k of pending) {
      const exact = this.constraints.get(k)!.some((c) => /^===?[^,*]+$/.test(c.spec)) ? 0 : 1;
      const seen = this.firstSeen.get(k) ?? 0;
      if (
        exact < bestScore[0] ||
        (exact === bestScore[0] && (seen < bestScore[1] || (seen === bestScore[1] && k < best!)))
      ) {
        best = k;
        bestScore = [exact, seen];
      }
    }
    return best;
  }

  private ordered(key: string, list: Candidate[]): Candidate[] {
    const pref = this.o.preferences?.get(baseOf(key));
    if (!pref) return list;
    const i = list.findIndex((c) => versionKey(c.version) === versionKey(pref));
    return i <= 0 ? list : [list[i]!, ...list.slice(0, i), ...list.slice(i + 1)];
  }

  /** Returns null on success, else the set of keys whose pins caused the dead end. */
  async solve(): Promise<Set<string> | null> {
    const key = await this.next();
    if (key === undefined) return null;
    const cons = this.constraints.get(key)!;
    const project = await this.project(baseOf(key));
    const conflict = new Set<string>(this.culprits(key, cons));
    const options = this.ordered(key, this.admissible(key, project, cons));
    if (options.length === 0) {
      this.conflicts.push({ kind: 'empty', key, constraints: this.annotate(cons), project });
      return conflict;
    }
    for (const cand of options) {
      this.tick();
      const expanded = await this.expand(key, cand);
      if (typeof expanded === 'string') {
        this.o.logger?.debug({ package: key, version: cand.version }, expanded);
        continue;
      }
      const verdict = await this.check(key, cand, expanded.deps);
      if (!verdict.ok) {
        for (const k of verdict.culprits) conflict.add(k);
        continue;
      }
      this.pins.set(key, cand);
      this.addConstraints(key, cand.version, expanded.deps);
      const below = await this.solve();
      if (below === null) return null;
      this.removeConstraints(key);
      this.pins.delete(key);
      this.backtracks.set(key, (this.backtracks.get(key) ?? 0) + 1);
      if (!below.has(key)) return below;
      for (const k of below) if (k !== key) conflict.add(k);
    }
    return conflict;
  }

  async run(): Promise<Resolution> {
    const rootDeps = this.o.requirements
      .filter((r) => !r.marker || this.o.platform.markerMatches(r.marker))
      .flatMap(depsOfRequirement);
    this.addConstraints(null, undefined, rootDeps);
    const failed = await this.solve();
    if (failed !== null) throw this.failure();
    return this.result();
  }

  private failure(): ResolverError {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const c of this.conflicts) {
      const text = describeConflict(c, this.root);
      if (seen.has(text)) continue;
      seen.add(text);
      lines.push(text);
    }
    const unusable = this.conflicts.filter(
      (c): c is Extract<Conflict, { kind: 'empty' }> =>
        c.kind === 'empty' && c.project.candidates.length === 0,
    );
    if (unusable.length > 0 && unusable.length === this.conflicts.length) {
      const p = unusable[0]!.project;
      return new ResolverError(
        p.found ? 'ERR_NO_WHEEL' : 'ERR_NOT_FOUND',
        `${explainUnusable(p)}\n${p.found ? 'Pick a version that ships a pure-Python (py3-none-any) or Pyodide wheel, or add an index that has one.' : 'Check the name, or add the index that has it ([[tool.uv.index]]).'}`,
      );
    }
    if (this.conflicts.every((c) => unusableMatches(c).length > 0)) {
      return new ResolverError(
        'ERR_NO_WHEEL',
        `${lines.join('\n')}\nPick a version that ships a pure-Python (py3-none-any) or Pyodide wheel, or add an index that has one.`,
      );
    }
    const shown = lines.slice(0, 6).map((l) => `  - ${l}`);
    if (lines.length > 6) shown.push(`  - … and ${lines.length - 6} more dead ends`);
    return new ResolverError(
      'ERR_NO_SOLUTION',
      `no set of versions satisfies the requirements of ${this.root}:\n${shown.join('\n')}\nLoosen or change one of these requirements in pyproject.toml.`,
    );
  }

  private async result(): Promise<Resolution> {
    const byName = new Map<string, ResolvedPackage>();
    for (const [key, cand] of this.pins) {
      if (key !== baseOf(key)) continue;
      const ex = (await this.expand(key, cand)) as Expanded;
      byName.set(key, {
        name: key,
        version: cand.version,
        source: cand.source,
        wheel: cand.wheel,
        wheels: cand.wheels,
        extras: [],
        dependencies: [...new Set(ex.deps.map((d) => baseOf(d.key)))].sort(),
        ...(ex.requiresPython ? { requiresPython: ex.requiresPython } : {}),
      });
    }
    for (const [key, cand] of this.pins) {
      const extra = extraOf(key);
      if (!extra) continue;
      const pkg = byName.get(baseOf(key))!;
      pkg.extras.push(extra);
      const ex = (await this.expand(key, cand)) as Expanded;
      const deps = new Set([...pkg.dependencies, ...ex.deps.map((d) => baseOf(d.key))]);
      deps.delete(pkg.name);
      pkg.dependencies = [...deps].sort();
    }
    const packages = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const p of packages) p.extras.sort();
    return { packages, steps: this.steps };
  }
}

/**
 * Resolves requirements to one version per project, all installable on the platform.
 * Throws `ResolverError` with `ERR_NO_SOLUTION` (with the conflicting chain in plain words),
 * `ERR_NO_WHEEL` / `ERR_NOT_FOUND` (naming the project, the versions looked at and why each was
 * turned down), or `ERR_RESOLVE_BUDGET`.
 */
export function resolve(options: ResolveOptions): Promise<Resolution> {
  return new Search(options).run();
}
