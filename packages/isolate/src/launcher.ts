import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { BaselineOptions } from './baseline.js';
import type { Bundle } from './bundle.js';
import { IsolateError } from './errors.js';
import { bootParked, type Parked } from './internal/parked.js';
import { type PreparedBundle, prepareBundle } from './internal/prepared.js';
import type { FromWorker, ToWorker } from './internal/protocol.js';
import { Standby } from './internal/standby.js';
import { exitedMessage, threadFailure } from './internal/thread-error.js';
import { Isolate, type IsolateOptions, startFresh } from './isolate.js';
import { type IsolateLimits, resolveLimits, withWorkerLimits } from './limits.js';
import { type Logger, silentLogger } from './logger.js';

/** Options of {@link IsolateLauncher}. */
export interface LauncherOptions {
  /**
   * Isolates kept booted from the baseline snapshot and parked, ready to take a worker's
   * snapshot in place (default 1; each holds ~80 MB). 0 disables the pool: every cold start
   * boots a new thread from the snapshot (~0.4 s).
   */
  poolSize?: number;
  /**
   * The pool grows past `poolSize`, up to this, while cold starts come faster than it refills
   * (each cold start that finds no parked isolate adds one), and shrinks back one isolate per
   * `shrinkAfterMs` without such a miss (default: `poolSize`, a fixed pool).
   */
  maxPoolSize?: number;
  /** Parked isolates booting at once (default: half the cores, at least 1). */
  maxBoots?: number;
  /** Milliseconds without a miss before a grown pool gives back one parked isolate (default 5000). */
  shrinkAfterMs?: number;
  /**
   * Milliseconds an {@link IsolateLauncher.anticipate} holds once its isolates are parked:
   * first cold starts that have not come by then are no longer expected, and their parked
   * isolates go (default 120000).
   */
  anticipateForMs?: number;
  logger?: Logger;
  /** Limits of every isolate this launcher starts. */
  limits?: Partial<IsolateLimits>;
  /** Baseline cache directory (default: `PYWORKERS_CACHE_DIR` or the user cache dir). */
  cacheDir?: string;
  /**
   * Milliseconds after a cold start before the pool is refilled (default 250): booting a parked
   * isolate takes ~0.4 s of CPU, which would otherwise compete with the first request.
   */
  refillDelayMs?: number;
  /**
   * Isolates handed back with {@link IsolateLauncher.retire} that are kept, at most, for their
   * worker's next cold start (default 4; 0 closes every retired isolate). Each holds what a warm
   * isolate holds (~45-85 MB); the oldest goes first.
   */
  maxStandby?: number;
  /** @internal Python each parked isolate runs before parking (tests provoke swap conflicts with it). */
  parkedWarmup?: string;
}

/** Counters of a launcher. */
export interface LauncherStats {
  parked: number;
  booting: number;
  /** Cold starts served by swapping into a parked isolate. */
  swaps: number;
  /** Cold starts that booted a new thread (pool empty, or no snapshot). */
  freshStarts: number;
  /** Swaps refused (interned-string conflict, busy) that fell back to a fresh thread. */
  fallbacks: number;
  /** Cold starts served by an isolate of the same worker that was retired earlier. */
  reuses: number;
  /** Retired isolates kept for their worker's next cold start. */
  standby: number;
  /** Parked isolates the pool refills to now (`poolSize`, more after misses). */
  poolTarget: number;
  /** Cold starts that found no parked isolate ready. */
  misses: number;
}

/**
 * Starts isolates for bundles. Keeps a pool of isolates booted from the baseline snapshot and
 * parked; a cold start swaps the worker's dedicated heap into one of them in place (~10 ms)
 * instead of instantiating Pyodide (~0.4 s). A parked isolate swaps once, into one worker, and
 * belongs to it for life; the pool refills in the background.
 * @example
 * const launcher = new IsolateLauncher({ poolSize: 2 });
 * const isolate = await launcher.start(bundle);
 * const res = await isolate.fetch({ method: 'GET', url: 'http://x/', headers: [], body });
 * await launcher.close();
 */
export class IsolateLauncher {
  private readonly poolSize: number;
  private readonly maxPoolSize: number;
  private readonly shrinkAfterMs: number;
  private readonly maxBoots: number;
  private target: number;
  private shrinkTimer: NodeJS.Timeout | undefined;
  private readonly logger: Logger;
  private readonly limits: IsolateLimits;
  private readonly baseline: BaselineOptions;
  private readonly warmup: string | undefined;
  private readonly refillDelayMs: number;
  private refillTimer: NodeJS.Timeout | undefined;
  private readonly pool: Parked[] = [];
  private readonly counters = { swaps: 0, freshStarts: 0, fallbacks: 0, reuses: 0, misses: 0 };
  private readonly standby: Standby;
  /** The bundle each isolate this launcher started runs (retire finds its standby list). */
  private readonly owned = new WeakMap<Isolate, PreparedBundle>();
  private closed = false;
  /** First cold starts still expected (see {@link IsolateLauncher.anticipate}). */
  private anticipated = 0;
  private anticipateTimer: NodeJS.Timeout | undefined;
  /** An {@link IsolateLauncher.anticipate} is filling the pool before the server listens. */
  private startup = false;
  private readonly anticipateForMs: number;
  /** Bundles this launcher started an isolate for: their first cold start has come. */
  private readonly seen = new WeakSet<PreparedBundle>();

  constructor(options: LauncherOptions = {}) {
    this.poolSize = Math.max(0, options.poolSize ?? 1);
    this.maxPoolSize = Math.max(this.poolSize, options.maxPoolSize ?? this.poolSize);
    this.shrinkAfterMs = options.shrinkAfterMs ?? 5_000;
    this.anticipateForMs = options.anticipateForMs ?? 120_000;
    this.maxBoots = Math.max(1, options.maxBoots ?? Math.floor(availableParallelism() / 2));
    this.target = this.poolSize;
    this.logger = options.logger ?? silentLogger;
    this.limits = resolveLimits(options.limits);
    this.warmup = options.parkedWarmup;
    this.refillDelayMs = options.refillDelayMs ?? 250;
    this.standby = new Standby(Math.max(0, options.maxStandby ?? 4));
    this.baseline = {
      logger: this.logger,
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    };
  }

  /**
   * Fills the pool and waits until `poolSize` isolates (or the pool's grown target) are parked
   * (optional: `start` works without). {@link IsolateLauncher.anticipate} waits for more.
   */
  async warm(): Promise<void> {
    await this.fill(() => this.target);
  }

  /** Boots (a few at a time) until `target()` isolates are parked, or no boot is left to wait for. */
  private async fill(target: () => number): Promise<void> {
    for (let round = 0; round <= this.maxPoolSize && !this.closed; round++) {
      this.refill();
      if (this.pool.filter((p) => p.parked).length >= target()) return;
      const booting = this.pool.filter((p) => !p.parked);
      if (booting.length === 0) return;
      await Promise.race(booting.map((p) => p.ready.catch(() => {})));
    }
  }

  /**
   * Says that `workers` workers are about to meet their first cold start here (a server that
   * has just loaded them, before it listens): the pool grows to that many parked isolates
   * (within `maxPoolSize`; resolves once they are parked, booting on every core meanwhile), and
   * gives one back as each new bundle's first cold start comes, or all of them after
   * `anticipateForMs`. So a burst of first requests to different workers swaps instead of
   * waiting for a boot each (~0.4 s), and the pool is back at `poolSize` once they all came.
   * @example await launcher.warm(); await launcher.anticipate(bundles.length);
   */
  async anticipate(workers: number): Promise<void> {
    if (this.closed || this.poolSize === 0) return;
    this.anticipated = Math.max(0, Math.floor(workers));
    clearTimeout(this.anticipateTimer);
    this.startup = true;
    try {
      await this.fill(() => this.wanted);
    } finally {
      this.startup = false;
    }
    if (this.anticipated === 0 || this.closed) return;
    this.anticipateTimer = setTimeout(() => {
      this.anticipated = 0;
      this.trim();
    }, this.anticipateForMs);
    this.anticipateTimer.unref();
  }

  /** What the pool refills to: its grown target, or more while first cold starts are expected. */
  private get wanted(): number {
    return Math.max(this.target, Math.min(this.maxPoolSize, this.anticipated));
  }

  /** A bundle met its first cold start: one fewer expected; parked isolates past that go. */
  private firstStart(prepared: PreparedBundle): void {
    if (this.seen.has(prepared)) return;
    this.seen.add(prepared);
    if (this.anticipated === 0) return;
    this.anticipated--;
    this.trim();
  }

  /** Terminates pooled isolates past {@link wanted}: the newest boot first, then parked ones. */
  private trim(): void {
    while (this.pool.length > this.wanted) {
      const booting = this.pool.findLast((p) => !p.parked);
      const spare = booting ?? this.pool.find((p) => p.parked)!;
      this.pool.splice(this.pool.indexOf(spare), 1);
      void spare.ready.then(
        () => spare.worker.terminate(),
        () => {},
      );
    }
  }

  /** Counters and pool state. */
  stats(): LauncherStats {
    return {
      parked: this.pool.filter((p) => p.parked).length,
      booting: this.pool.filter((p) => !p.parked).length,
      ...this.counters,
      poolTarget: this.wanted,
      standby: this.standby.size,
    };
  }

  /**
   * An isolate running `bundle`, ready for requests: swapped into a parked isolate when one is
   * available (or about to be), else booted fresh from the snapshot.
   */
  async start(
    bundle: Bundle,
    options: Pick<IsolateOptions, 'logger' | 'secrets' | 'hostCalls'> = {},
  ): Promise<Isolate> {
    if (this.closed) {
      throw new IsolateError('ERR_ISOLATE_CLOSED', 'the isolate launcher is closed');
    }
    const prepared = await prepareBundle(bundle, this.baseline);
    const kept = this.standby.take(prepared);
    if (kept) {
      this.counters.reuses++;
      return kept;
    }
    const started = await this.startNew(prepared, options);
    this.owned.set(started, prepared);
    // After its own isolate is claimed: the spare ones of the pool may go now.
    this.firstStart(prepared);
    return started;
  }

  /**
   * Hands back an isolate the caller no longer needs (e.g. evicted for memory): kept, idle, for
   * the same worker's next {@link IsolateLauncher.start} when there is room (a swapped isolate
   * can never serve another worker), else closed. Cheaper than any restore for a worker that
   * comes back, and never seen by another worker.
   */
  async retire(isolate: { close(): Promise<void> }): Promise<void> {
    const prepared = isolate instanceof Isolate ? this.owned.get(isolate) : undefined;
    if (!prepared || this.closed || !this.standby.enabled || !(isolate as Isolate).idle) {
      await isolate.close();
      return;
    }
    await this.standby.keep(prepared, isolate as Isolate);
  }

  private async startNew(
    prepared: PreparedBundle,
    options: Pick<IsolateOptions, 'logger' | 'secrets' | 'hostCalls'>,
  ): Promise<Isolate> {
    const logger = options.logger ?? this.logger;
    const fresh = (): Promise<Isolate> => {
      this.counters.freshStarts++;
      return startFresh(prepared, {
        logger,
        limits: withWorkerLimits(this.limits, prepared.limits),
        ...(options.secrets ? { secrets: options.secrets } : {}),
        ...(options.hostCalls ? { hostCalls: options.hostCalls } : {}),
      });
    };
    if (!prepared.image || this.poolSize === 0) return fresh();
    const missed = !this.pool.some((p) => p.parked);
    if (missed) {
      // More cold starts are coming than the pool refills: grow it and boot at once; this cold
      // start takes the first isolate to park (no fresh thread of its own beside the boots).
      this.grow();
      this.refill();
    }
    const parked = await this.claim();
    if (!missed) this.refillSoon();
    if (!parked) return fresh();
    try {
      const isolate = await this.adopt(parked, prepared, logger, options);
      if (isolate) {
        this.counters.swaps++;
        return isolate;
      }
    } catch (err) {
      logger.warn({ worker: prepared.name, err: (err as Error).message }, 'swap failed');
      await parked.worker.terminate();
    }
    this.counters.fallbacks++;
    return fresh();
  }

  /**
   * Decodes a bundle's snapshot (checksum verified) into shared memory and packs its files, as
   * the first `start` of that bundle would. Call it when a bundle is loaded, so the worker's
   * first cold start does not pay for it (~0.1 s for a 30 MiB snapshot). Rejects on a bad bundle.
   */
  async prepare(bundle: Bundle): Promise<void> {
    await prepareBundle(bundle, this.baseline);
  }

  /** Same as {@link IsolateLauncher.start}: the shape `createRouter({ launcher })` expects. */
  launch(
    bundle: Bundle,
    options: Pick<IsolateOptions, 'logger' | 'secrets' | 'hostCalls'> = {},
  ): Promise<Isolate> {
    return this.start(bundle, options);
  }

  /** Terminates the parked isolates. Isolates already started stay up (close them yourself). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    clearTimeout(this.shrinkTimer);
    clearTimeout(this.anticipateTimer);
    const all = this.pool.splice(0);
    const kept = this.standby.drain();
    await Promise.all([...all.map((p) => p.worker?.terminate()), ...kept.map((i) => i.close())]);
  }

  /** Takes a parked isolate out of the pool, waiting for one still booting if that is all there is. */
  private async claim(): Promise<Parked | undefined> {
    for (;;) {
      const ready = this.pool.find((p) => p.parked);
      if (ready) {
        this.pool.splice(this.pool.indexOf(ready), 1);
        return ready;
      }
      const booting = this.pool[0];
      if (!booting) return undefined;
      const ok = await booting.ready.then(
        () => true,
        () => false,
      );
      if (!ok) return undefined;
    }
  }

  private async adopt(
    parked: Parked,
    bundle: PreparedBundle,
    logger: Logger,
    options: Pick<IsolateOptions, 'secrets' | 'hostCalls'>,
  ): Promise<Isolate | undefined> {
    const t0 = performance.now();
    const image = bundle.image!;
    const limits = withWorkerLimits(this.limits, bundle.limits);
    const answer = new Promise<FromWorker>((resolve) => {
      parked.route = resolve;
    });
    parked.logger = logger;
    parked.name = bundle.name;
    parked.worker.postMessage({
      type: 'adopt',
      name: bundle.name,
      mainModule: bundle.mainModule,
      files: bundle.files,
      sdkFiles: bundle.sdkFiles,
      image,
      memoryBytes: limits.memoryBytes,
      sentAt: performance.timeOrigin + performance.now(),
    } satisfies ToWorker);
    const msg = await Promise.race([answer, exited(parked.worker)]);
    if (msg.type === 'swap-refused') {
      logger.warn({ worker: bundle.name, reason: msg.reason }, msg.message);
      await parked.worker.terminate();
      return undefined;
    }
    if (msg.type !== 'ready') {
      throw threadFailure(
        msg,
        'ERR_ISOLATE_BOOT',
        `swapping ${bundle.name} into a parked isolate failed: `,
      );
    }
    const isolate = new Isolate(
      parked.worker,
      bundle,
      limits,
      logger,
      { ...msg, bootMs: performance.now() - t0 },
      options.secrets,
      options.hostCalls,
    );
    parked.route = (m) => isolate.onMessage(m);
    return isolate;
  }

  /** A cold start found the pool empty: one more parked isolate, until `maxPoolSize`. */
  private grow(): void {
    this.counters.misses++;
    if (this.target < this.maxPoolSize) this.target++;
    if (this.target > this.poolSize) this.shrinkLater();
  }

  /** Gives back one parked isolate of a grown pool per `shrinkAfterMs` without a miss. */
  private shrinkLater(): void {
    clearTimeout(this.shrinkTimer);
    this.shrinkTimer = setTimeout(() => {
      if (this.closed || this.target <= this.poolSize) return;
      this.target--;
      if (this.pool.length > this.wanted) {
        // A parked one goes (the newest boot last: it may be the only one still booting).
        const spare = this.pool.find((p) => p.parked) ?? this.pool[this.pool.length - 1]!;
        this.pool.splice(this.pool.indexOf(spare), 1);
        void spare.ready.then(
          () => spare.worker.terminate(),
          () => {},
        );
      }
      if (this.target > this.poolSize) this.shrinkLater();
    }, this.shrinkAfterMs);
    this.shrinkTimer.unref();
  }

  private refillSoon(): void {
    if (this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.refill();
    }, this.refillDelayMs);
    this.refillTimer.unref();
  }

  /**
   * Boots parked isolates until the pool holds `target`, at most `maxBoots` at a time (a boot is
   * ~0.3-0.4 s of one core's CPU: more at once would slow each, and the requests beside them).
   */
  private refill(): void {
    // Before the server listens nothing else runs: every core boots.
    const boots = this.startup ? Math.max(this.maxBoots, availableParallelism()) : this.maxBoots;
    while (
      !this.closed &&
      this.pool.length < this.wanted &&
      this.pool.filter((p) => !p.parked).length < boots
    ) {
      this.pool.push(this.spawnParked());
    }
  }

  private spawnParked(): Parked {
    return bootParked({
      baseline: this.baseline,
      limits: this.limits,
      warmup: this.warmup,
      logger: this.logger,
      closed: () => this.closed,
      // A grown pool may still be short: the next boot starts now.
      onParked: () => this.refill(),
      onGone: (entry) => this.drop(entry),
    });
  }

  private drop(entry: Parked): void {
    const i = this.pool.indexOf(entry);
    if (i >= 0) this.pool.splice(i, 1);
  }
}

function exited(worker: Worker): Promise<FromWorker> {
  return new Promise((resolve) => {
    worker.once('exit', (code) => resolve(exitedMessage(code)));
  });
}
