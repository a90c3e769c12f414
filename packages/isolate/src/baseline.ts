import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir, writeFileAtomic } from '@pyworkers/common';
import { encodeSnapshot, fromPyodideSnapshot } from '@pyworkers/snapshot';
import { bootAssets } from './internal/assets.js';
import { type LoadedImage, loadImage } from './internal/images.js';
import { packMountSet, sdkDigest, sdkMountSet } from './internal/mounts.js';
import { release } from './internal/release.js';
import { spawnWorker } from './internal/spawn.js';
import { threadFailure } from './internal/thread-error.js';
import { DEFAULT_LIMITS } from './limits.js';
import { type Logger, silentLogger } from './logger.js';
import { PYODIDE_VERSION } from './version.js';

/** Options of {@link loadBaseline}. */
export interface BaselineOptions {
  logger?: Logger;
  /** Directory of the cache (default: `PYWORKERS_CACHE_DIR` or the user cache dir). */
  cacheDir?: string;
}

/** A random hash seed for a new interpreter (`PYTHONHASHSEED` accepts 0..2^32-1). */
export function randomHashSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}

/**
 * Boots an interpreter with `hashSeed`, imports the SDK, freezes every object (`gc.freeze()`)
 * and returns its encoded snapshot: the baseline every build and every parked isolate starts
 * from. Takes one plain Pyodide boot (3-4 s).
 */
export async function makeBaselineSnapshot(
  hashSeed: number,
  logger: Logger = silentLogger,
): Promise<Uint8Array> {
  const assets = await bootAssets();
  const { worker, first } = spawnWorker(
    {
      type: 'init',
      mode: 'baseline',
      name: '(baseline)',
      mainModule: '',
      files: packMountSet([]),
      sdkFiles: sdkMountSet(),
      assets,
      env: { PYTHONHASHSEED: String(hashSeed) },
      limits: { memoryBytes: DEFAULT_LIMITS.memoryBytes },
    },
    logger,
    () => {},
  );
  try {
    const msg = await first;
    if (msg.type !== 'snapshot') {
      throw threadFailure(msg, 'ERR_ISOLATE_SNAPSHOT', `making the baseline snapshot failed: `);
    }
    const parts = fromPyodideSnapshot(msg.bytes);
    return encodeSnapshot(parts.heap, {
      pyodideVersion: PYODIDE_VERSION,
      pyodideBuildId: parts.buildId,
      pythonVersion: msg.pythonVersion,
      kind: 'baseline',
      heapSize: parts.heap.length,
      pageSize: 65536,
      hashSeed,
      importedModules: msg.importedModules,
      loadedLibraries: [],
      jsRefs: parts.jsRefs,
      app: { monotonicMs: msg.monotonicMs },
    });
  } finally {
    await worker.terminate();
  }
}

const loaded = new Map<string, Promise<LoadedImage>>();

/** The cached baseline at `path`, or undefined when there is none; an unusable one is removed. */
async function readCached(path: string, logger: Logger): Promise<LoadedImage | undefined> {
  const cached = await readFile(path).catch(() => undefined);
  if (!cached) return undefined;
  try {
    const img = loadImage(new Uint8Array(cached), path);
    if (img.meta.kind === 'baseline') return img;
  } catch (err) {
    logger.warn({ path, err: (err as Error).message }, 'cached baseline unusable; remaking');
  } finally {
    // Decoded into shared memory: the file's bytes (~14 MiB) are not needed any more.
    release(cached);
  }
  await unlink(path).catch(() => {});
  return undefined;
}

/**
 * How the baseline is made (what worker/boot.ts runs before taking it). Bump it when that
 * changes, so caches made the old way are not reused. 2: free memory zeroed, every SDK module
 * imported. 3: the zeroed blocks freed in address order (canonical free lists).
 */
const BASELINE_RECIPE = 3;

/**
 * Path of the cached baseline snapshot of this Pyodide version, SDK and recipe (the baseline
 * has the SDK imported, so a new SDK makes a new baseline).
 */
export function baselinePath(dir: string = cacheDir()): string {
  return join(
    dir,
    `baseline-pyodide-${PYODIDE_VERSION}-sdk-${sdkDigest()}-r${BASELINE_RECIPE}.pwsnap`,
  );
}

/**
 * The baseline snapshot of the pinned Pyodide version, decoded into shared memory: read from the
 * cache, or made once (with a random hash seed) and cached atomically. Memoised per process.
 */
export function loadBaseline(options: BaselineOptions = {}): Promise<LoadedImage> {
  const logger = options.logger ?? silentLogger;
  const path = baselinePath(options.cacheDir);
  let p = loaded.get(path);
  if (!p) {
    p = (async () => {
      const cached = await readCached(path, logger);
      if (cached) return cached;
      logger.info({ path }, 'making the baseline snapshot (once per Pyodide version)');
      const bytes = await makeBaselineSnapshot(randomHashSeed(), logger);
      await mkdir(join(path, '..'), { recursive: true });
      // First writer wins: processes that boot at once (test runners, host processes) each make a
      // baseline with their own random hash seed, and a bundle built on one is refused on another.
      // `link` fails when the file exists, so every process ends up on the one that landed first.
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await writeFileAtomic(tmp, bytes);
      try {
        await link(tmp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const winner = await readCached(path, logger);
        if (winner) return winner;
        throw err;
      } finally {
        await unlink(tmp).catch(() => {});
      }
      return loadImage(bytes, path);
    })();
    loaded.set(path, p);
    p.catch(() => loaded.delete(path));
  }
  return p;
}
