import type { Worker } from 'node:worker_threads';
import { type BaselineOptions, loadBaseline } from './baseline.js';
import { IsolateError } from './errors.js';
import { bootAssets } from './internal/assets.js';
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

  constructor(options: SnapshotBuilderOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.nextDelayMs = options.nextDelayMs ?? 150;
    this.baseline = {
      logger: this.logger,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    };
  }

  /** Whether an isolate is restored and waiting for the next build, and builds run so far. */
  stats(): { waiting: boolean; builds: number } {
    return { waiting: this.waiting?.parked === true, builds: this.builds };
  }

  /** Boots the waiting isolate now (optional: the first build boots it otherwise). */
  async warm(): Promise<void> {
    await this.prepared().ready.catch(() => {});
  }

  /**
   * @internal Runs a top level in the waiting isolate (booting one first if it failed or none
   * is there) and starts the next; `logger` gets the thread's output, tagged with `job.name`.
   */
  async take(job: Omit<BuildMessage, 'type'>, logger: Logger): Promise<BuildThread> {
    if (this.closed) throw new IsolateError('ERR_ISOLATE_CLOSED', 'the snapshot builder is closed');
    let entry = this.prepared();
    this.waiting = undefined;
    const ok = await entry.ready.then(
      () => true,
      () => false,
    );
    if (!ok) {
      // One retry on a fresh isolate: a boot that failed says why on the second try.
      entry = this.prepared();
      this.waiting = undefined;
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
    entry.name = job.name;
    entry.logger = logger;
    entry.worker.postMessage({ type: 'build', ...job } satisfies BuildMessage);
    // The next build's isolate boots a little later (0.3-0.4 s of CPU): started now, it would
    // compete for the cores with this build and with the first request that follows it.
    clearTimeout(this.nextTimer);
    this.nextTimer = setTimeout(() => {
      if (!this.closed) this.prepared();
    }, this.nextDelayMs);
    this.nextTimer.unref();
    return { worker: entry.worker, first };
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
    this.waiting ??= this.spawn();
    return this.waiting;
  }

  private spawn(): Waiting {
    const entry: Waiting = {
      worker: undefined as unknown as Worker,
      ready: Promise.resolve(),
      route: () => {},
      name: '(builder)',
      logger: this.logger,
      parked: false,
    };
    const tagged: Logger = {
      debug: (obj, msg) => entry.logger.debug({ ...obj, worker: entry.name }, msg),
      info: (obj, msg) => entry.logger.info({ ...obj, worker: entry.name }, msg),
      warn: (obj, msg) => entry.logger.warn({ ...obj, worker: entry.name }, msg),
      error: (obj, msg) => entry.logger.error({ ...obj, worker: entry.name }, msg),
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
        },
        tagged,
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
    })();
    entry.ready.catch((err: Error) => {
      if (!this.closed) this.logger.warn({ err: err.message }, 'snapshot builder failed to boot');
      if (this.waiting === entry) this.waiting = undefined;
    });
    return entry;
  }
}
