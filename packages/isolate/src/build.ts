import { encodeSnapshot, fromPyodideSnapshot } from '@pyworkers/snapshot';
import { loadBaseline, makeBaselineSnapshot, randomHashSeed } from './baseline.js';
import type { WorkerBindings } from './bindings.js';
import { decodeBundle, encodeBundle } from './bundle.js';
import { IsolateError } from './errors.js';
import { bootAssets } from './internal/assets.js';
import { type LoadedImage, loadImage } from './internal/images.js';
import { keepHeap } from './internal/kept-heaps.js';
import { packMountSet, sdkMountSet } from './internal/mounts.js';
import { spawnWorker } from './internal/spawn.js';
import { threadFailure } from './internal/thread-error.js';
import type { WorkerLimitOverrides } from './limits.js';
import { DEFAULT_LIMITS } from './limits.js';
import { type Logger, silentLogger } from './logger.js';
import type { BuildDependencies, BuildThread, SnapshotBuilder } from './snapshot-builder.js';
import { PYODIDE_VERSION, SDK_VERSION } from './version.js';

export { PYODIDE_LOCK_FILE, PYODIDE_VERSION, SDK_VERSION } from './version.js';

/** What a build needs to know about a worker. */
export interface BuildInput {
  name: string;
  /** Python module name of the entry point. */
  mainModule: string;
  /** Source files by path relative to the worker's root (e.g. `entry.py`, vendored packages). */
  files: Map<string, Uint8Array>;
  vars: Record<string, string>;
  /** The worker's own request timeout and Python heap cap (its config's limits). */
  limits?: WorkerLimitOverrides;
  /** Bindings, crons, queue consumers and assets from the worker's config. */
  bindings?: Partial<WorkerBindings>;
  /**
   * The vendored dependencies among `files`: with a `builder`, the next build's isolate imports
   * the ones this top level imported ahead of time, while they stay the same (`key`).
   */
  dependencies?: BuildDependencies;
}

/** Options of {@link buildBundle}. */
export interface BuildOptions {
  /** Take a dedicated memory snapshot after the top level ran (default true). */
  snapshot?: boolean;
  logger?: Logger;
  /** Baseline cache directory (default: `PYWORKERS_CACHE_DIR` or the user cache dir). */
  cacheDir?: string;
  /**
   * Give this build its own random hash seed instead of the cached baseline's. The seed is fixed
   * when an interpreter starts (every str hash and dict depends on it), so this boots a new
   * baseline for the build: 3-4 s more, and the snapshot no longer shares pages with the cached
   * baseline. Default false: the build inherits the cached baseline's (random) seed.
   */
  freshHashSeed?: boolean;
  /**
   * Bytes of OS entropy (`os.urandom`, `secrets`, `uuid.uuid4()`) the top level may draw at
   * build time; whatever it draws is frozen into the snapshot and shared by every restored
   * isolate. Default 0: such a top level fails the build.
   */
  entropyBudget?: number;
  /** How the bundle is compressed ({@link BundleEncoding}); default `compact`. */
  encoding?: BundleEncoding;
  /**
   * Runs the top level in an isolate it keeps restored and waiting (`pyworkers dev`: ~0.2 s
   * less per rebuild). Not used with `freshHashSeed`.
   */
  builder?: SnapshotBuilder;
  /**
   * This process serves the bundle it builds (`pyworkers dev`): keep the snapshot's heap, so the
   * first load of the bundle here takes it instead of decoding the snapshot again.
   */
  keepImage?: boolean;
}

/**
 * How a bundle is compressed: the brotli levels of its snapshot and of its files.
 * - `small`: for bundles that are shipped (`pyworkers build`). Flask + requests: 3.8 MiB
 *   (snapshot brotli 10, files brotli 9) against `compact`'s 4.3 MiB, for ~10-20 s more encoding
 *   on a 2-core box. Decoding is no slower (brotli decodes higher levels as fast or faster).
 * - `compact` (default): brotli 6 and 5, for bundles built where they are served (`serve`, tests):
 *   on that app, brotli 6 is 3.39 MiB of snapshot against brotli 5's 3.49 in the same encode time.
 * - `fast`: uncompressed (the snapshot is still a delta), for `pyworkers dev`: compressing ~4 MiB
 *   of changed pages costs ~1-2 s on a loaded 2-core box.
 */
export type BundleEncoding = 'small' | 'compact' | 'fast';

const ENCODING_LEVELS: Record<BundleEncoding, { snapshot: number; files: number } | null> = {
  small: { snapshot: 10, files: 9 },
  compact: { snapshot: 6, files: 5 },
  fast: null,
};

async function baselineFor(options: BuildOptions, logger: Logger): Promise<LoadedImage> {
  if (!options.freshHashSeed) {
    return loadBaseline({ logger, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  }
  return loadImage(await makeBaselineSnapshot(randomHashSeed(), logger), '(per-build baseline)');
}

/** The manifest's binding fields: empty ones are left out (older bundles have none). */
function manifestBindings(b: Partial<WorkerBindings> | undefined): Partial<WorkerBindings> {
  if (!b) return {};
  return {
    ...(b.bindings?.length ? { bindings: b.bindings } : {}),
    ...(b.crons?.length ? { crons: b.crons } : {}),
    ...(b.queueConsumers?.length ? { queueConsumers: b.queueConsumers } : {}),
    ...(b.assets ? { assets: b.assets } : {}),
    ...(b.durableObjects?.classes.length || b.durableObjects?.migrations.length
      ? { durableObjects: b.durableObjects }
      : {}),
  };
}

/**
 * Builds a bundle: restores the baseline snapshot in a fresh isolate, runs the worker's top level
 * on top of it, and stores the resulting dedicated snapshot in the bundle.
 * @example const bytes = await buildBundle({ name, mainModule: 'entry', files, vars: {} });
 */
export async function buildBundle(
  input: BuildInput,
  options: BuildOptions = {},
): Promise<Uint8Array> {
  const logger = options.logger ?? silentLogger;
  const levels = ENCODING_LEVELS[options.encoding ?? 'compact'];
  const filesCodec = levels ? ('brotli' as const) : ('none' as const);
  const bundleOptions = { filesCodec, ...(levels ? { filesLevel: levels.files } : {}) };
  const manifest = {
    name: input.name,
    mainModule: input.mainModule,
    pyodideVersion: PYODIDE_VERSION,
    sdkVersion: SDK_VERSION,
    vars: input.vars,
    ...(input.limits && Object.keys(input.limits).length > 0 ? { limits: input.limits } : {}),
    ...manifestBindings(input.bindings),
  };
  if (options.snapshot === false)
    return encodeBundle({ manifest, files: input.files, snapshot: null }, bundleOptions);
  const job = {
    name: input.name,
    mainModule: input.mainModule,
    ...(input.bindings?.durableObjects?.classes.length
      ? { durableObjectClasses: input.bindings.durableObjects.classes }
      : {}),
    files: packMountSet(input.files),
    sdkFiles: sdkMountSet(),
  };
  const builder = options.freshHashSeed ? undefined : options.builder;
  const [baseline, assets] = await Promise.all([baselineFor(options, logger), bootAssets()]);
  const { worker, first, done }: BuildThread = builder
    ? await builder.take(
        { ...job, ...(input.dependencies ? { dependencies: input.dependencies } : {}) },
        logger,
      )
    : spawnWorker(
        {
          type: 'init',
          mode: 'snapshot',
          ...job,
          assets,
          image: baseline.image,
          limits: { memoryBytes: DEFAULT_LIMITS.memoryBytes },
        },
        logger,
        () => {},
      );
  let snapshot: Uint8Array;
  let imported: string[] | undefined;
  try {
    const msg = await first;
    if (msg.type === 'build-error') {
      throw new IsolateError(msg.code, msg.message, { userError: true });
    }
    if (msg.type !== 'snapshot') {
      throw threadFailure(
        msg,
        'ERR_ISOLATE_SNAPSHOT',
        `running the top level of ${input.name} failed:\n`,
      );
    }
    const budget = options.entropyBudget ?? 0;
    if (msg.entropyBytes > budget) {
      throw new IsolateError(
        'ERR_ISOLATE_ENTROPY',
        `${input.name}: the top level drew ${msg.entropyBytes} bytes of OS entropy (os.urandom, secrets, uuid.uuid4()) ` +
          `at build time (budget: ${budget}); they would be frozen into the snapshot and identical in every isolate. ` +
          'Draw random values inside the handler, or raise the budget (entropyBudget) if sharing them is intended.',
        { userError: true },
      );
    }
    imported = msg.importedModules;
    const parts = fromPyodideSnapshot(msg.bytes);
    // Shipped as a delta against the baseline every host of this cache boots its parked
    // isolates from, decoded once per host when the bundle is loaded, never on a request. A
    // per-build baseline (freshHashSeed) is on no host, so such a snapshot is whole.
    const shipping = {
      ...(levels
        ? { codec: 'brotli' as const, level: levels.snapshot }
        : { codec: 'none' as const }),
      ...(options.freshHashSeed ? {} : { reference: baseline.reference() }),
    };
    snapshot = encodeSnapshot(
      parts.heap,
      {
        pyodideVersion: PYODIDE_VERSION,
        pyodideBuildId: parts.buildId,
        pythonVersion: msg.pythonVersion,
        kind: 'dedicated',
        heapSize: parts.heap.length,
        pageSize: 65536,
        hashSeed: baseline.meta.hashSeed,
        importedModules: msg.importedModules,
        loadedLibraries: [],
        jsRefs: parts.jsRefs,
        app: {
          worker: input.name,
          monotonicMs: msg.monotonicMs,
          topLevelEntropyBytes: msg.entropyBytes,
        },
      },
      shipping,
    );
    if (options.keepImage && !options.freshHashSeed) {
      keepHeap(snapshot, {
        heap: parts.heap,
        jsRefs: parts.jsRefs,
        monotonicMs: msg.monotonicMs,
      });
    }
  } finally {
    // The snapshot is taken: the thread is spent. Its teardown (~20 ms) is not waited for.
    void worker.terminate();
    done?.(imported);
  }
  return encodeBundle({ manifest, files: input.files, snapshot }, bundleOptions);
}

export { decodeBundle };
