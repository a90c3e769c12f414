// Downloads of distribution files: cached by SHA-256 under the cache dir, every byte checked
// against the expected hash, run in parallel under a limit, reporting progress; offline mode
// serves only the cache and file:// URLs.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '@pyworkers/common';
import { ResolverError } from './errors.js';
import { httpGet, redactUrl } from './internal/http.js';
import { createLimiter } from './internal/limit.js';
import { type Logger, silentLogger } from './logger.js';
import type { SyncProgressEvent } from './progress.js';
import type { DistFile } from './source.js';

export interface DownloaderOptions {
  /** Default: the pyworkers cache directory (`cacheDir()` of @pyworkers/common). */
  cacheDir?: string;
  env?: Record<string, string | undefined>;
  /** No network: only cached files and file:// URLs. */
  offline?: boolean;
  /** Parallel downloads (default 8). */
  concurrency?: number;
  onProgress?: (event: SyncProgressEvent) => void;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/** A file on disk with a verified hash. */
export interface DownloadedFile {
  filename: string;
  path: string;
  sha256: string;
  size: number;
  /** True when it came from the cache (or a local file) without a network transfer. */
  cached: boolean;
}

/** What to download, and the name/version progress events carry. */
export interface DownloadItem {
  file: Pick<DistFile, 'filename' | 'url' | 'hashes'>;
  name: string;
  version: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
// What a distribution file name may hold: never a path separator or a NUL.
const SAFE_FILENAME = /^[^/\\\0]+$/;

async function hashFile(path: string, algorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

const sha256File = (path: string) => hashFile(path);

// When an index gives no sha256, the strongest other hash it gives is checked instead (PEP 503
// allows these in the URL fragment).
const OTHER_ALGORITHMS = ['sha512', 'sha384', 'sha224', 'sha1', 'md5'];

/** The hash to check when there is no sha256: [algorithm, hex digest], or undefined. */
export function fallbackHash(hashes: Record<string, string>): [string, string] | undefined {
  if (hashes.sha256) return undefined;
  for (const a of OTHER_ALGORITHMS) {
    const d = hashes[a];
    if (d) return [a, d.toLowerCase()];
  }
  return undefined;
}

async function checkFallback(item: DownloadItem, path: string): Promise<void> {
  const other = fallbackHash(item.file.hashes);
  if (!other) return;
  const got = await hashFile(path, other[0]);
  if (got !== other[1]) {
    throw new ResolverError(
      'ERR_HASH_MISMATCH',
      `${item.file.filename} (${item.name} ${item.version}) from ${redactUrl(item.file.url)} has ${other[0]} ${got}, but ${other[1]} was expected: the file changed on the server or the download was corrupted`,
      { userError: false },
    );
  }
}

function mismatch(item: DownloadItem, got: string, want: string): ResolverError {
  return new ResolverError(
    'ERR_HASH_MISMATCH',
    `${item.file.filename} (${item.name} ${item.version}) from ${redactUrl(item.file.url)} has sha256 ${got}, but ${want} was expected: the file changed on the server or the download was corrupted.`,
    { userError: false },
  );
}

/** Downloads and caches distribution files. Share one per sync. */
export class Downloader {
  readonly cacheDir: string;
  readonly offline: boolean;
  readonly #opts: DownloaderOptions;
  readonly #limit: <T>(task: () => Promise<T>) => Promise<T>;
  readonly #inflight = new Map<string, Promise<DownloadedFile>>();
  readonly #logger: Logger;

  constructor(options: DownloaderOptions = {}) {
    this.#opts = options;
    this.cacheDir = options.cacheDir ?? cacheDir(options.env);
    this.offline = options.offline ?? false;
    this.#limit = createLimiter(Math.max(1, options.concurrency ?? 8));
    this.#logger = options.logger ?? silentLogger;
  }

  /** Where a file with this hash lives in the cache. */
  cachePath(sha256: string, filename: string): string {
    if (!HEX64.test(sha256) || !SAFE_FILENAME.test(filename) || /^\.\.?$/.test(filename)) {
      throw new ResolverError(
        'ERR_INDEX_RESPONSE',
        `refusing to cache "${filename}": not a plain file name (or "${sha256}" is not a sha256)`,
        { userError: false },
      );
    }
    return join(this.cacheDir, 'wheels', sha256.slice(0, 2), sha256, filename);
  }

  /**
   * Returns the file on disk, hash-checked: from the cache, a file:// URL, or downloaded.
   * Concurrent requests for the same file share one download.
   */
  download(item: DownloadItem): Promise<DownloadedFile> {
    const key = item.file.hashes.sha256 ?? item.file.url;
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#limit(() => this.#download(item)).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    return p;
  }

  /** Downloads many files in parallel (under the concurrency limit), in input order. */
  downloadAll(items: DownloadItem[]): Promise<DownloadedFile[]> {
    return Promise.all(items.map((i) => this.download(i)));
  }

  /** Bytes of a small file (a PEP 658 metadata file), hash-checked when a hash is given. */
  async fetchBytes(
    url: string,
    expected: Record<string, string> = {},
    label = url,
  ): Promise<Buffer> {
    let bytes: Buffer;
    if (url.startsWith('file:')) bytes = await readLocal(url, label);
    else {
      if (this.offline) {
        throw new ResolverError(
          'ERR_OFFLINE',
          `${label} is needed from ${redactUrl(url)}, but offline mode forbids network access`,
        );
      }
      const res = await httpGet(url, this.#http());
      bytes = Buffer.from(await res.arrayBuffer());
    }
    const check: [string, string] | undefined = expected.sha256
      ? ['sha256', expected.sha256.toLowerCase()]
      : fallbackHash(expected);
    if (check) {
      const got = createHash(check[0]).update(bytes).digest('hex');
      if (got !== check[1]) {
        throw new ResolverError(
          'ERR_HASH_MISMATCH',
          `${label} from ${redactUrl(url)} has ${check[0]} ${got}, but the index says ${check[1]}`,
          { userError: false },
        );
      }
    }
    return bytes;
  }

  #http() {
    return {
      ...(this.#opts.fetch ? { fetch: this.#opts.fetch } : {}),
      ...(this.#opts.timeoutMs ? { timeoutMs: this.#opts.timeoutMs } : {}),
    };
  }

  async #download(item: DownloadItem): Promise<DownloadedFile> {
    const { file } = item;
    const want = file.hashes.sha256?.toLowerCase();
    if (want !== undefined && !HEX64.test(want)) {
      throw new ResolverError(
        'ERR_INDEX_RESPONSE',
        `${file.filename}: "${want}" is not a sha256 hex digest`,
      );
    }
    const progress = this.#opts.onProgress ?? (() => {});

    if (file.url.startsWith('file:')) {
      const path = fileURLToPath(file.url);
      const got = await sha256File(path).catch((cause) => {
        throw new ResolverError('ERR_NETWORK', `cannot read ${path}: ${(cause as Error).message}`, {
          cause,
        });
      });
      if (want && got !== want) throw mismatch(item, got, want);
      await checkFallback(item, path);
      const { size } = await stat(path);
      progress({ type: 'download-done', name: item.name, bytes: size, cached: true });
      return { filename: file.filename, path, sha256: got, size, cached: true };
    }

    if (want) {
      const hit = await this.#fromCache(want, file.filename);
      if (hit) {
        progress({ type: 'download-done', name: item.name, bytes: hit.size, cached: true });
        return hit;
      }
    } else {
      // No hash from the index: the URL map remembers what we computed last time.
      const known = await readFile(this.#urlKey(file.url), 'utf8').catch(() => undefined);
      const hit =
        known && HEX64.test(known.trim())
          ? await this.#fromCache(known.trim(), file.filename)
          : undefined;
      if (hit) {
        progress({ type: 'download-done', name: item.name, bytes: hit.size, cached: true });
        return hit;
      }
    }

    if (this.offline) {
      throw new ResolverError(
        'ERR_OFFLINE',
        `${item.name} ${item.version} (${file.filename}) is not in the cache at ${this.cacheDir}, and offline mode forbids downloading it from ${redactUrl(file.url)}`,
      );
    }

    const res = await httpGet(file.url, this.#http());
    const totalHeader = Number(res.headers.get('content-length'));
    const total = Number.isFinite(totalHeader) && totalHeader > 0 ? totalHeader : undefined;
    progress({
      type: 'download-start',
      name: item.name,
      version: item.version,
      url: redactUrl(file.url),
      ...(total ? { total } : {}),
    });
    const tmpDir = join(this.cacheDir, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
    const hash = createHash('sha256');
    let bytes = 0;
    let reported = 0;
    try {
      const body = res.body
        ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
        : Readable.from([]);
      // A stalled transfer fails after the timeout without data; a slow one may take as long as it needs.
      const idleMs = this.#opts.timeoutMs ?? 30_000;
      let idle = setTimeout(() => body.destroy(new Error(`no data for ${idleMs} ms`)), idleMs);
      body.on('close', () => clearTimeout(idle));
      body.on('data', (chunk: Buffer) => {
        clearTimeout(idle);
        idle = setTimeout(() => body.destroy(new Error(`no data for ${idleMs} ms`)), idleMs);
        hash.update(chunk);
        bytes += chunk.length;
        if (bytes - reported >= 256 * 1024) {
          reported = bytes;
          progress({
            type: 'download-progress',
            name: item.name,
            bytes,
            ...(total ? { total } : {}),
          });
        }
      });
      await pipeline(body, createWriteStream(tmp));
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new ResolverError(
        'ERR_NETWORK',
        `download of ${redactUrl(file.url)} broke off after ${bytes} bytes: ${(cause as Error).message}`,
        { cause },
      );
    }
    const got = hash.digest('hex');
    if (want && got !== want) {
      await rm(tmp, { force: true });
      throw mismatch(item, got, want);
    }
    try {
      await checkFallback(item, tmp);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    const dest = this.cachePath(got, file.filename);
    await mkdir(dirname(dest), { recursive: true });
    await rename(tmp, dest);
    if (!want) await this.#rememberUrl(file.url, got);
    this.#logger.debug({ url: redactUrl(file.url), bytes, sha256: got }, 'downloaded');
    progress({ type: 'download-done', name: item.name, bytes, cached: false });
    return { filename: file.filename, path: dest, sha256: got, size: bytes, cached: false };
  }

  async #fromCache(sha256: string, filename: string): Promise<DownloadedFile | undefined> {
    const path = this.cachePath(sha256, filename);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    // Re-hash on every hit: cheap next to unpacking, and a damaged cache never reaches an install.
    const got = await sha256File(path);
    if (got !== sha256) {
      this.#logger.warn({ path }, 'cached file does not match its hash; downloading it again');
      await rm(path, { force: true });
      return undefined;
    }
    return { filename, path, sha256, size: st.size, cached: true };
  }

  #urlKey(url: string): string {
    return join(this.cacheDir, 'urls', createHash('sha256').update(url).digest('hex'));
  }

  async #rememberUrl(url: string, sha256: string): Promise<void> {
    const key = this.#urlKey(url);
    await mkdir(dirname(key), { recursive: true });
    const tmp = `${key}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, sha256);
    await rename(tmp, key);
  }
}

async function readLocal(url: string, label: string): Promise<Buffer> {
  const path = fileURLToPath(url);
  try {
    return await readFile(path);
  } catch (cause) {
    throw new ResolverError(
      'ERR_NETWORK',
      `cannot read ${label} at ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}
