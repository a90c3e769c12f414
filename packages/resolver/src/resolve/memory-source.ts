// A package source over data held in memory: projects and releases described as objects
// (the same shape as the test catalogue). Real, not a mock: it lists files and answers
// metadata exactly as an index would, so the resolver can run against it without I/O.
import { ResolverError } from '../errors.js';
import { normalizeName } from '../requirement.js';
import type { CoreMetadata, DistFile, PackageSource, ProjectPage } from '../source.js';

/** One release of an in-memory project. */
export interface MemoryRelease {
  version: string;
  requiresDist?: string[];
  requiresPython?: string;
  extras?: string[];
  yanked?: boolean | string;
  /** Wheel tags, one wheel each; default `['py3-none-any']`. */
  tags?: string[];
  /** Also list an sdist. */
  sdist?: boolean;
}

/** An in-memory project. */
export interface MemoryProject {
  name: string;
  releases: MemoryRelease[];
}

/** A {@link PackageSource} over in-memory projects (for embedding known packages, and for tests). */
export class MemorySource implements PackageSource {
  private readonly pages = new Map<string, ProjectPage>();
  private readonly metadata = new Map<string, CoreMetadata>();
  /** How many metadata lookups were answered (lets callers see what a resolve read). */
  metadataReads = 0;

  constructor(
    readonly name: string,
    projects: MemoryProject[],
    readonly url = `memory:${name}`,
  ) {
    for (const p of projects) {
      const key = normalizeName(p.name);
      const page = this.pages.get(key) ?? { name: key, files: [], source: name };
      const stem = p.name.replace(/[-.]+/g, '_');
      for (const r of p.releases) {
        const filenames = (r.tags ?? ['py3-none-any']).map((t) => `${stem}-${r.version}-${t}.whl`);
        if (r.sdist) filenames.push(`${stem}-${r.version}.tar.gz`);
        for (const filename of filenames) {
          const file: DistFile = {
            filename,
            url: `${this.url}/${filename}`,
            hashes: {},
            yanked: r.yanked ?? false,
            source: name,
            ...(r.requiresPython ? { requiresPython: r.requiresPython } : {}),
          };
          page.files.push(file);
          this.metadata.set(file.url, {
            name: p.name,
            version: r.version,
            requiresDist: r.requiresDist ?? [],
            providesExtra: r.extras ?? [],
            ...(r.requiresPython ? { requiresPython: r.requiresPython } : {}),
          });
        }
      }
      this.pages.set(key, page);
    }
  }

  async getProject(name: string): Promise<ProjectPage | null> {
    return this.pages.get(normalizeName(name)) ?? null;
  }

  async getMetadata(file: DistFile): Promise<CoreMetadata> {
    const md = this.metadata.get(file.url);
    if (!md) {
      throw new ResolverError('ERR_NOT_FOUND', `${file.url} is not a file of source ${this.name}`, {
        userError: false,
      });
    }
    this.metadataReads++;
    return md;
  }
}
