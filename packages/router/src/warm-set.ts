import type { EvictionPolicy } from './eviction.js';

/** What the warm set needs to know about one isolate. */
export interface WarmIsolate {
  readonly worker: string;
  /** Memory the isolate holds (an estimate until it reports its own). */
  bytes: number;
  /** Requests it is running now, including ones waiting for its cold start. */
  inflight: number;
  /** False while it is still starting: a starting isolate is never evicted. */
  ready: boolean;
}

/**
 * The isolates of one host and their memory: finds a warm isolate with room for a request,
 * and picks which idle isolates to evict (through an {@link EvictionPolicy}) when a new one
 * must fit under the budget. Synchronous on purpose: the router's hosts and the placement
 * simulation in `bench/` both run this same code.
 */
export class WarmSet<I extends WarmIsolate> {
  private readonly byWorker = new Map<string, I[]>();
  private used = 0;
  private count = 0;

  constructor(
    /** Memory the isolates of this host may hold together. */
    readonly budgetBytes: number,
    readonly policy: EvictionPolicy,
    /** Requests one isolate runs at once before the worker gets another isolate. */
    readonly concurrency: number,
    /** Isolates this host may hold at once, whatever their size. */
    readonly maxIsolates = Number.POSITIVE_INFINITY,
    /**
     * A hot worker spreads: once its least busy isolate runs this many requests, it gets
     * another isolate (up to `spreadTo`), so that a CPU-bound worker uses more than one core.
     */
    readonly spreadAt = Number.POSITIVE_INFINITY,
    /** Most isolates a worker spreads over on this host (the host's share of the cores). */
    readonly spreadTo = 1,
    /** Asked before a hot worker spreads (default: it always may). */
    private readonly maySpread: (worker: string) => boolean = () => true,
  ) {}

  /** Whether a worker whose least busy isolate runs `inflight` over `count` isolates gets another. */
  private spreads(worker: string, inflight: number, count: number): boolean {
    return inflight >= this.spreadAt && count < this.spreadTo && this.maySpread(worker);
  }

  /**
   * Records a request for `worker`; answers its least busy isolate with room, if any, and none
   * when the worker should get another isolate: all are at `concurrency`, or busy past
   * `spreadAt` with fewer than `spreadTo` isolates.
   */
  /** Whether {@link acquire} would give an isolate of `worker` now (without touching it). */
  hasRoom(worker: string): boolean {
    const list = this.byWorker.get(worker) ?? [];
    let best: I | undefined;
    for (const iso of list)
      if (iso.inflight < this.concurrency && (!best || iso.inflight < best.inflight)) best = iso;
    return !!best && !this.spreads(worker, best.inflight, list.length);
  }

  acquire(worker: string): I | undefined {
    this.policy.touch(worker);
    let best: I | undefined;
    const list = this.byWorker.get(worker) ?? [];
    for (const iso of list) {
      if (iso.inflight < this.concurrency && (!best || iso.inflight < best.inflight)) best = iso;
    }
    if (best && this.spreads(worker, best.inflight, list.length)) return undefined;
    return best;
  }

  /** Adds a (starting) isolate; its bytes count against the budget from now on. */
  add(iso: I): void {
    const list = this.byWorker.get(iso.worker);
    if (list) list.push(iso);
    else {
      this.byWorker.set(iso.worker, [iso]);
      this.policy.admit(iso.worker);
    }
    this.used += iso.bytes;
    this.count++;
  }

  /** Removes an isolate (evicted, crashed or closed). */
  remove(iso: I): void {
    const list = this.byWorker.get(iso.worker);
    const at = list?.indexOf(iso) ?? -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    this.used -= iso.bytes;
    this.count--;
    if (list.length === 0) {
      this.byWorker.delete(iso.worker);
      this.policy.forget(iso.worker);
    }
  }

  /** Updates an isolate's memory once it reports its real size. */
  resize(iso: I, bytes: number): void {
    if (this.byWorker.get(iso.worker)?.includes(iso)) this.used += bytes - iso.bytes;
    iso.bytes = bytes;
  }

  /**
   * Removes and answers idle isolates, least valuable first, until `isolates` more isolates of
   * `bytes` together fit the budgets, or nothing idle is left (then the set stays over budget:
   * the caller decides). `evictFor(0, 0)` only brings the set back under its budgets.
   */
  evictFor(bytes: number, isolates: number): I[] {
    const out: I[] = [];
    const idle = (worker: string): I | undefined =>
      this.byWorker.get(worker)?.find((iso) => iso.ready && iso.inflight === 0);
    while (!this.fits(bytes, isolates)) {
      const worker = this.policy.victim((w) => idle(w) !== undefined);
      const iso = worker === undefined ? undefined : idle(worker);
      if (!iso) break;
      this.remove(iso);
      out.push(iso);
    }
    return out;
  }

  /** Whether `isolates` more isolates of `bytes` together fit both budgets now. */
  fits(bytes: number, isolates: number): boolean {
    return this.used + bytes <= this.budgetBytes && this.count + isolates <= this.maxIsolates;
  }

  get usedBytes(): number {
    return this.used;
  }

  /** The isolates of `worker` (do not mutate). */
  isolates(worker: string): readonly I[] {
    return this.byWorker.get(worker) ?? [];
  }

  /** Every isolate. */
  all(): I[] {
    return [...this.byWorker.values()].flat();
  }

  /** Workers with at least one isolate. */
  workers(): string[] {
    return [...this.byWorker.keys()];
  }
}
