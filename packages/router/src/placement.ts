import { HashRing } from './ring.js';

/** What a placement policy may know about hosts' current load (in-flight requests). */
export interface LoadView {
  /** In-flight requests on `host`. */
  load(host: number): number;
  /** In-flight requests on all hosts together. */
  total(): number;
}

/**
 * Chooses the isolate host for one request of a worker. Implementations are interchangeable
 * (a shared contract suite runs against each).
 */
export interface PlacementPolicy {
  readonly name: string;
  readonly hosts: number;
  /**
   * The host to try next for a request of `worker`, never one in `tried` (hosts that already
   * refused it); -1 once every host was tried.
   */
  pick(
    worker: string,
    loads: LoadView,
    tried?: ReadonlySet<number>,
    warm?: (host: number) => boolean,
  ): number;
}

/** Options of {@link BoundedLoadPlacement}. */
export interface BoundedLoadOptions {
  /** A host is full at (1 + eps) x the mean load (default 0.5). */
  eps?: number;
  /**
   * The bound is never below this many in-flight requests (default 0, the paper's rule). A
   * router sets it to a few requests so that a lightly loaded machine does not cold-start a
   * worker on a second host just because the mean is tiny.
   */
  minBound?: number;
  /**
   * With a `warm` test, how many hosts under the bound to look at for one where the worker is
   * already warm before taking the first (default 4).
   */
  warmLookahead?: number;
  /** Ring points per host (default 160). */
  vnodes?: number;
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): a worker goes
 * to the first host on the ring, from its hash, that stays at or under (1 + eps) x the mean
 * load when it takes the request; if every host is at the bound, to its first host (where it
 * is most likely warm). A hot worker therefore spills onto the next hosts of its own ring
 * position, where its isolates stay warm, instead of onto random ones. Given a `warm` test,
 * a host where the worker already has an isolate is preferred among the first few hosts
 * under the bound (measured in bench/: fewer cold starts at the same load bound).
 */
export class BoundedLoadPlacement implements PlacementPolicy {
  readonly name: string;
  readonly hosts: number;
  private readonly ring: HashRing;
  private readonly eps: number;
  private readonly minBound: number;
  private readonly warmLookahead: number;

  constructor(hosts: number, options: BoundedLoadOptions = {}) {
    this.hosts = hosts;
    this.eps = options.eps ?? 0.5;
    this.minBound = options.minBound ?? 0;
    this.warmLookahead = options.warmLookahead ?? 4;
    this.ring = new HashRing(hosts, options.vnodes);
    this.name = `bounded-load(eps=${this.eps})`;
  }

  /**
   * The most load a host may have after taking one more request, given the current total:
   * (1 + eps) x the mean including that request, not rounded up (the paper rounds up; at a
   * few requests per host that alone lets the busiest host run well past 1 + eps).
   */
  bound(total: number): number {
    // An idle host always takes a request (the paper's rounding up does the same).
    return Math.max(1, this.minBound, ((1 + this.eps) * (total + 1)) / this.hosts);
  }

  pick(
    worker: string,
    loads: LoadView,
    tried?: ReadonlySet<number>,
    warm?: (host: number) => boolean,
  ): number {
    const bound = this.bound(loads.total());
    let fallback = -1;
    let firstUnder = -1;
    let looked = 0;
    const found = this.ring.walk(worker, (host) => {
      if (tried?.has(host)) return false;
      if (fallback < 0) fallback = host;
      if (loads.load(host) + 1 > bound) return false;
      if (!warm) return true;
      if (firstUnder < 0) firstUnder = host;
      if (warm(host)) return true;
      return ++looked >= this.warmLookahead;
    });
    if (warm && firstUnder >= 0 && (found < 0 || !warm(found))) return firstUnder;
    return found >= 0 ? found : fallback;
  }
}

/** A uniformly random host per request: the baseline sharding is measured against. */
export class RandomPlacement implements PlacementPolicy {
  readonly name = 'random';
  constructor(
    readonly hosts: number,
    private readonly random: () => number = Math.random,
  ) {}

  pick(_worker: string, _loads: LoadView, tried?: ReadonlySet<number>): number {
    const left = tried ? this.hosts - tried.size : this.hosts;
    if (left <= 0) return -1;
    let nth = Math.floor(this.random() * left);
    for (let h = 0; h < this.hosts; h++) {
      if (tried?.has(h)) continue;
      if (nth-- === 0) return h;
    }
    return -1;
  }
}
