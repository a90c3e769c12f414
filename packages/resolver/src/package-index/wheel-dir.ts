import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Downloader } from '../download.js';
import { ResolverError } from '../errors.js';
import { normalizeName } from '../requirement.js';
import type { CoreMetadata, DistFile, PackageSource, ProjectPage } from '../source.js';
import { parseWheelFilename } from '../tags.js';
import { localDistFile } from './local-dist-file.js';
import { loadMetadata } from './metadata-cache.js';

const SDIST = /^(.+?)-(\d[^-]*)\.(tar\.gz|tar\.bz2|tar\.xz|zip|tgz)$/i;

/** The project a file name belongs to (normalised), or undefined. */
function projectOf(filename: string): string | undefined {
  const wheel = parseWheelFilename(filename);
  if (wheel) return normalizeName(wheel.name);
  const m = SDIST.exec(filename);
  return m ? normalizeName(m[1]!) : undefined;
}

export interface WheelDirOptions {
  dir: string;
  name?: string;
  downloader: Downloader;
}

/** Every wheel (and sdist, so rejections can be explained) in one flat directory. */
export class WheelDirSource implements PackageSource {
  readonly name: string;
  readonly url: string;
  readonly #dir: string;
  readonly #downloader: Downloader;
  #listing: Promise<Map<string, string[]>> | undefined;

  constructor(options: WheelDirOptions) {
    this.#dir = resolve(options.dir);
    this.url = pathToFileURL(this.#dir).href;
    this.name = options.name ?? this.#dir;
    this.#downloader = options.downloader;
  }

  #list(): Promise<Map<string, string[]>> {
    this.#listing ??= readdir(this.#dir).then(
      (names) => {
        const byProject = new Map<string, string[]>();
        for (const n of names.sort()) {
          const key = projectOf(n);
          if (!key) continue;
          byProject.set(key, [...(byProject.get(key) ?? []), n]);
        }
        return byProject;
      },
      (cause: unknown) => {
        throw new ResolverError(
          'ERR_INDEX_CONFIG',
          `cannot read the wheel directory ${this.#dir}: ${(cause as Error).message}`,
          {
            cause,
          },
        );
      },
    );
    return this.#listing;
  }

  async getProject(name: string): Promise<ProjectPage | null> {
    const key = normalizeName(name);
    const filenames = (await this.#list()).get(key);
    if (!filenames) return null;
    const files: DistFile[] = [];
    for (const filename of filenames) {
      const path = join(this.#dir, filename);
      files.push(await localDistFile(path, filename, key, this.name));
    }
    return { name: key, files, source: this.name };
  }

  getMetadata(file: DistFile): Promise<CoreMetadata> {
    return loadMetadata(file, projectOf(file.filename) ?? file.filename, this.#downloader);
  }
}
