import type { Worker } from 'node:worker_threads';
import { type BaselineOptions, loadBaseline } from './baseline.js';
import { IsolateError } from './errors.js';
import { bootAssets } from './internal/assets.js';
import { forwarding } from './internal/forwarding-logger.js';
import { packMountSet, sdkMountSet } from './internal/mounts.js';
import type { BuildMessage, FromWorker } from './internal/protocol.js';
import { spawnWorker } from './internal/spawn.js';
import { threadFailure } from './internal/thread-error.js';
import { DEFAULT_LIMITS } from './limits.js';
import { type Logger, silentLogger } from './logger.js';

/** Options of {@link SnapshotBuilder}. */
export interface SnapshotBuilderOptions {
  logger?: Logger;
  /** Baseline cache directory (default: `PYWORKERS_CACHE_DIR` or the user cache dir). */
  cacheDir?: string;
  /** Milliseconds after a build before the next build's isolate boots (default 150). */
  nextDelayMs?: number;
}

/** A thread running a worker's top level, and the first message it answers (its snapshot). */
export interface BuildThread {
  worker: Worker;
  first: Promise<FromWorker>;
  /** Called once the build is over: the modules its top level imported, or none if it failed. */
  done?(importedModules?: string[]): void;
}

/** The vendored dependencies among a build's files: what a builder may import ahead of time. */
export interface BuildDependencies {
  /** Identifies their content (a new key: the modules imported ahead of time are stale). */
  key: string;
  /** Their top-level import names (`flask`, `requests`, ...). */
  packages: string[];
}

/** A build for {@link SnapshotBuilder.take}. */
export type BuildJob = Omit<BuildMessage, 'type'> & { dependencies?: BuildDependencies };

/** What the next isolate imports before waiting: the last build's dependency modules. */
interface Preload {
  key: string;
  files: BuildMessage['files'];
  modules: string[];
}

interface Waiting {
  worker: Worker;
  /** Resolves once the thread has restored the baseline and waits for its build. */
  ready: Promise<void>;
  /** Where the thread's messages after `parked` go: the build that took it. */
  route: (msg: FromWorker) => void;
  /** Tags its output lines: `(builder)` until a build takes it. */
  name: string;
  logger: Logger;
  parked: boolean;
  /** The dependencies it imported ahead of time (their key), if any. */
  preloadKey: string | undefined;
  /** It tried to import them and one failed: its interpreter is not one to build in. */
  spoiled: boolean;
}

/**
 * Keeps one isolate restored from the cached baseline and waiting, so that the next build runs
 * the worker's top level at once instead of first booting an isolate (~0.2 s of a rebuild in
 * `pyworkers dev`). Each build spends the isolate it runs in; the next one boots at once, in the
 * background. Pass it to {@link buildBundle} as `builder`.
 * @example
 * const builder = new SnapshotBuilder();
 * const bytes = await buildBundle(input, { builder, encoding: 'fast' });
 * await builder.close();
 */
export class SnapshotBuilder {
  private readonly baseline: BaselineOptions;
  private readonly logger: Logger;
  private waiting: Waiting | undefined;
  private closed = false;
  private builds = 0;
  private nextTimer: NodeJS.Timeout | undefined;
  private readonly nextDelayMs: number;
  private preload: Preload | undefined;
  private preloadedBuilds = 0;

  constructor(options: SnapshotBuilderOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.nextDelayMs = options.nextDelayMs ?? 150;
    this.baseline = {
      logger: this.logger,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    };
  }

  /**
   * Whether an isolate is restored and waiting for the next build, builds run so far, and how
   * many of them found their dependencies imported already.
   */
  stats(): { waiting: boolean; builds: number; preloaded: number } {
    return {
      waiting: this.waiting?.parked === true,
      builds: this.builds,
      preloaded: this.preloadedBuilds,
    };
  }

  /**
   * Says what the next build will import, when no build ran yet to tell (e.g. `pyworkers dev`
   * found its bundle up to date: `importedModules` from that bundle's snapshot): the waiting
   * isolate imports those of `dependencies` ahead of time.
   */
  prime(
    files: Map<string, Uint8Array>,
    dependencies: BuildDependencies,
    importedModules: string[],
  ): void {
    if (this.closed || this.preload?.key === dependencies.key) return;
    this.preload = {
      key: dependencies.key,
      files: packMountSet(files),
      modules: importedModules.filter((m) => dependencies.packages.includes(m.split('.')[0]!)),
    };
    const stale = this.waiting;
    if (stale && stale.preloadKey !== dependencies.key) {
      this.waiting = undefined;
      void stale.ready.then(
        () => stale.worker.terminate(),
        () => {},
      );
    }
    this.prepared();
  }

  /** Boots the waiting isolate now (optional: the first build boots it otherwise). */
  async warm(): Promise<void> {
    await this.prepared().ready.catch(() => {});
  }

  /**
   * @internal Runs a top level in the waiting isolate (booting one first if it failed, none is
   * there, or it imported other dependencies than `job`'s); `logger` gets the thread's output,
   * tagged with `job.name`. Call `done` when the build is over: the next isolate boots then.
   */
  async take(job: BuildJob, logger: Logger): Promise<BuildThread> {
    if (this.closed) throw new IsolateError('ERR_ISOLATE_CLOSED', 'the snapshot builder is closed');
    const { dependencies, ...message } = job;
    let entry = this.prepared();
    this.waiting = undefined;
    const ok = await entry.ready.then(
      () => true,
      () => false,
    );
    const usable =
      ok && !entry.spoiled && (!entry.preloadKey || entry.preloadKey === dependencies?.key);
    if (!usable) {
      void entry.worker?.terminate();
      // A plain one (one retry: a boot that failed says why on the second try).
      if (this.preload && this.preload.key !== dependencies?.key) this.preload = undefined;
      entry = this.spawn(undefined);
      await entry.ready;
    }
    const first = new Promise<FromWorker>((resolve, reject) => {
      entry.route = resolve;
      entry.worker.once('exit', (code) =>
        reject(
          new IsolateError(
            'ERR_ISOLATE_SNAPSHOT',
            `isolate building ${job.name} exited with code ${code}`,
          ),
        ),
      );
    });
    this.builds++;
    if (entry.preloadKey) this.preloadedBuilds++;
    entry.name = job.name;
    entry.logger = logger;
    entry.worker.postMessage({ type: 'build', ...message } satisfies BuildMessage);
    let finished = false;
    const done = (importedModules?: string[]): void => {
      if (finished) return;
      finished = true;
      this.preload =
        importedModules && dependencies
          ? {
              key: dependencies.key,
              files: message.files,
              modules: importedModules.filter((m) =>
                dependencies.packages.includes(m.split('.')[0]!),
              ),
            }
          : undefined;
      // The next build's isolate boots a little later (0.3-0.4 s of CPU, more with its
      // dependencies): started at once, it would compete with the first request after a build.
      clearTimeout(this.nextTimer);
      this.nextTimer = setTimeout(() => {
        if (!this.closed) this.prepared();
      }, this.nextDelayMs);
      this.nextTimer.unref();
    };
    return { worker: entry.worker, first, done };
  }

  /** Stops the waiting isolate. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.nextTimer);
    const entry = this.waiting;
    this.waiting = undefined;
    await entry?.worker.terminate();
  }

  private prepared(): Waiting {
    this.waiting ??= this.spawn(this.preload);
    return this.waiting;
  }

  private spawn(preload: Preload | undefined): Waiting {
    const entry: Waiting = {
      worker: undefined as unknown as Worker,
      ready: Promise.resolve(),
      route: () => {},
      name: '(builder)',
      logger: this.logger,
      parked: false,
      preloadKey: undefined,
      spoiled: false,
    };
    entry.ready = (async () => {
      const [assets, baseline] = await Promise.all([bootAssets(), loadBaseline(this.baseline)]);
      const spawned = spawnWorker(
        {
          type: 'init',
          mode: 'builder',
          name: '(builder)',
          mainModule: '',
          files: packMountSet([]),
          sdkFiles: sdkMountSet(),
          assets,
          image: baseline.image,
          limits: { memoryBytes: DEFAULT_LIMITS.memoryBytes },
          ...(preload?.modules.length
            ? { preload: { files: preload.files, modules: preload.modules } }
            : {}),
        },
        forwarding(entry),
        (msg) => entry.route(msg),
      );
      entry.worker = spawned.worker;
      spawned.worker.once('exit', () => {
        if (this.waiting === entry) this.waiting = undefined;
      });
      const first = await spawned.first;
      if (first.type !== 'parked') {
        void spawned.worker.terminate();
        throw threadFailure(first, 'ERR_ISOLATE_BOOT', 'snapshot builder isolate failed to boot: ');
      }
      entry.parked = true;
      if (first.preloaded) entry.preloadKey = preload!.key;
      else if (preload?.modules.length) {
        // An import that failed left its interpreter half-built: the next build boots a plain one.
        entry.spoiled = true;
        this.preload = undefined;
      }
    })();
    entry.ready.catch((err: Error) => {
      if (!this.closed) this.logger.warn({ err: err.message }, 'snapshot builder failed to boot');
      if (this.waiting === entry) this.waiting = undefined;
    });
    return entry;
  }
}
