import { type Bundle, Isolate, type Logger } from '@pyworkers/isolate';

/** Where a pool gets a worker's bundle from (read lazily, on the first cold start). */
export type BundleSource = () => Promise<Bundle>;

/** Counters a pool keeps for metrics and the status page. */
export interface PoolStats {
  worker: string;
  isolates: number;
  coldStarts: number;
  requests: number;
}

/**
 * The isolates of one worker. Concurrent requests for a cold worker share one cold start.
 */
export class IsolatePool {
  private isolate: Promise<Isolate> | undefined;
  private coldStarts = 0;
  private requests = 0;

  constructor(
    readonly worker: string,
    private readonly source: BundleSource,
    private readonly logger: Logger,
  ) {}

  /** An isolate that is warm, or one being cold-started for this request. */
  acquire(): Promise<Isolate> {
    this.requests++;
    if (!this.isolate) {
      this.coldStarts++;
      const started = this.source().then((bundle) =>
        Isolate.start(bundle, { logger: this.logger }),
      );
      this.isolate = started;
      // A failed cold start is not cached: the next request tries again.
      started.catch(() => {
        if (this.isolate === started) this.isolate = undefined;
      });
    }
    return this.isolate;
  }

  /** Drops an isolate that crashed so the next request starts a fresh one. */
  discard(isolate: Isolate): void {
    void this.isolate?.then((current) => {
      if (current === isolate) this.isolate = undefined;
    });
  }

  stats(): PoolStats {
    return {
      worker: this.worker,
      isolates: this.isolate ? 1 : 0,
      coldStarts: this.coldStarts,
      requests: this.requests,
    };
  }

  async close(): Promise<void> {
    const current = this.isolate;
    this.isolate = undefined;
    if (current)
      await current.then(
        (i) => i.close(),
        () => {},
      );
  }
}
