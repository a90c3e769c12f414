// A PEP 503/691 simple index over http(s) or file://: JSON by Accept header with HTML fallback.
// Pages fetched online are kept in the cache so --offline can resolve against them later.

import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from '@pyworkers/common';
import { z } from 'zod';
import type { Downloader } from '../download.js';
import { ResolverError } from '../errors.js';
import { httpGet, redactUrl } from '../internal/http.js';
import { createLimiter } from '../internal/limit.js';
import { type Logger, silentLogger } from '../logger.js';
import { normalizeName } from '../requirement.js';
import type { CoreMetadata, DistFile, PackageSource, ProjectPage } from '../source.js';
import { localDistFile } from './local-dist-file.js';
import { loadMetadata } from './metadata-cache.js';
import { parseHtmlPage, parseJsonPage } from './project-page.js';

export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
/** What we ask for: PEP 691 JSON first, then HTML (PEP 691's recommended header). */
export const SIMPLE_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

export interface SimpleIndexOptions {
  /** The index URL (`…/simple/`), http(s) or file://. */
  url: string;
  /** A short name for messages and locks (default: the URL without credentials). */
  name?: string;
  downloader: Downloader;
  /** Default: the downloader's offline flag. */
  offline?: boolean;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
}

const cachedFile = z.object({
  filename: z.string(),
  url: z.string(),
  hashes: z.record(z.string(), z.string()),
  requiresPython: z.string().optional(),
  yanked: z.union([z.boolean(), z.string()]),
  metadataUrl: z.string().optional(),
  metadataHashes: z.record(z.string(), z.string()).optional(),
  size: z.number().optional(),
  source: z.string(),
  version: z.string().optional(),
});

const pageCache = z.object({
  format: z.literal(2),
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  page: z.object({ name: z.string(), source: z.string(), files: z.array(cachedFile) }).nullable(),
});

type CachedPage = { etag?: string; lastModified?: string; page: ProjectPage | null };

const DIST = /\.(whl|tar\.gz|tar\.bz2|tar\.xz|zip|tgz)$/i;

/** A PEP 503 (HTML) / PEP 691 (JSON) simple repository. */
export class SimpleIndexSource implements PackageSource {
  readonly name: string;
  readonly url: string;
  readonly #opts: SimpleIndexOptions;
  readonly #offline: boolean;
  readonly #logger: Logger;
  readonly #pages = new Map<string, Promise<ProjectPage | null>>();
  readonly #projectOf = new Map<string, string>();
  // A resolver may ask for dozens of pages at once; indexes rate-limit bursts.
  readonly #limit = createLimiter(16);

  constructor(options: SimpleIndexOptions) {
    this.url = options.url.endsWith('/') ? options.url : `${options.url}/`;
    this.name = options.name ?? redactUrl(this.url);
    this.#opts = options;
    this.#offline = options.offline ?? options.downloader.offline;
    this.#logger = options.logger ?? silentLogger;
  }

  getProject(name: string): Promise<ProjectPage | null> {
    const key = normalizeName(name);
    let p = this.#pages.get(key);
    if (!p) {
      p = this.#limit(() => this.#load(key)).then((page) => {
        for (const f of page?.files ?? []) this.#projectOf.set(f.url, key);
        return page;
      });
      this.#pages.set(key, p);
      p.catch(() => this.#pages.delete(key));
    }
    return p;
  }

  getMetadata(file: DistFile): Promise<CoreMetadata> {
    const project = this.#projectOf.get(file.url) ?? file.filename.split('-')[0] ?? file.filename;
    return loadMetadata(file, project, this.#opts.downloader);
  }

  async #load(key: string): Promise<ProjectPage | null> {
    const pageUrl = `${this.url}${key}/`;
    if (pageUrl.startsWith('file:')) return this.#loadFile(key, pageUrl);
    const cachePath = join(
      this.#opts.downloader.cacheDir,
      'simple',
      createHash('sha256').update(this.url).digest('hex').slice(0, 32),
      `${key}.json`,
    );
    const cached = await readPageCache(cachePath, this.name);
    if (this.#offline) {
      if (cached) return cached.page;
      throw new ResolverError(
        'ERR_OFFLINE',
        `${key} is not in the cached pages of ${this.name}, and offline mode forbids fetching ${redactUrl(pageUrl)}`,
      );
    }
    // Revalidate what the cache holds: an unchanged page costs a 304 instead of a transfer.
    const headers: Record<string, string> = { accept: SIMPLE_ACCEPT };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
    const res = await httpGet(pageUrl, {
      headers,
      allowStatus: [304, 404, 410],
      ...(this.#opts.fetch ? { fetch: this.#opts.fetch } : {}),
    });
    if (res.status === 304 && cached) {
      await res.body?.cancel();
      this.#logger.debug({ url: redactUrl(pageUrl) }, 'index page not modified');
      return cached.page;
    }
    let page: ProjectPage | null;
    if (res.status === 404 || res.status === 410 || res.status === 304) {
      await res.body?.cancel();
      page = null;
    } else {
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const text = await res.text();
      const finalUrl = res.url || pageUrl;
      page =
        type === SIMPLE_JSON || type === 'application/json'
          ? parseJsonPage(text, finalUrl, key, this.name)
          : parseHtmlPage(text, finalUrl, key, this.name);
      this.#logger.debug({ url: redactUrl(pageUrl), type, files: page.files.length }, 'index page');
    }
    const etag = res.headers.get('etag') ?? undefined;
    const lastModified = res.headers.get('last-modified') ?? undefined;
    const entry: CachedPage = {
      page,
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
    };
    await writePageCache(cachePath, entry).catch((err: unknown) =>
      this.#logger.warn({ err, cachePath }, 'could not cache an index page'),
    );
    return page;
  }

  /** file:// index: `<name>/index.html`, else the directory's distribution files. */
  async #loadFile(key: string, pageUrl: string): Promise<ProjectPage | null> {
    const dir = fileURLToPath(pageUrl);
    const html = await readFile(join(dir, 'index.html'), 'utf8').catch(() => undefined);
    if (html !== undefined)
      return parseHtmlPage(html, pathToFileURL(join(dir, 'index.html')).href, key, this.name);
    const names = await readdir(dir).catch(() => undefined);
    if (!names) return null;
    const files: DistFile[] = [];
    for (const filename of names.filter((n) => DIST.test(n)).sort()) {
      const path = join(dir, filename);
      if (!(await stat(path)).isFile()) continue;
      files.push(await localDistFile(path, filename, key, this.name));
    }
    return { name: key, files, source: this.name };
  }
}

async function readPageCache(path: string, source: string): Promise<CachedPage | undefined> {
  try {
    const parsed = pageCache.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!parsed.success) return undefined;
    const { page, etag, lastModified } = parsed.data;
    // The index may have been renamed in pyproject.toml since: files carry the current name.
    const restamped = page
      ? ({ ...page, source, files: page.files.map((f) => ({ ...f, source })) } as ProjectPage)
      : null;
    return {
      page: restamped,
      ...(etag ? { etag } : {}),
      ...(lastModified ? { lastModified } : {}),
    };
  } catch {
    return undefined;
  }
}

async function writePageCache(path: string, entry: CachedPage): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ format: 2, ...entry }));
}
