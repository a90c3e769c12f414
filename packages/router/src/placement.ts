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
  pick(worker: string, loads: LoadView, tried?: ReadonlySet<number>): number;
}

/** Options of {@link BoundedLoadPlacement}. */
export interface BoundedLoadOptions {
  /** A host is full at (1 + eps) x the mean load (default 0.25). */
  eps?: number;
  /**
   * The bound is never below this many in-flight requests (default 0, the paper's rule). A
   * router sets it to a few requests so that a lightly loaded machine does not cold-start a
   * worker on a second host just because the mean is tiny.
   */
  minBound?: number;
  /** Ring points per host (default 160). */
  vnodes?: number;
}

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018): a worker goes
 * to the first host on the ring, from its hash, whose load is under
 * ceil((1 + eps) x (total + 1) / hosts); if every host is at the bound, to its first host.
 * A hot worker therefore spills onto the next hosts of its own ring segment, where its
 * isolates stay warm, instead of onto random ones.
 */
export class BoundedLoadPlacement implements PlacementPolicy {
  readonly name: string;
  readonly hosts: number;
  private readonly ring: HashRing;
  private readonly eps: number;
  private readonly minBound: number;

  constructor(hosts: number, options: BoundedLoadOptions = {}) {
    this.hosts = hosts;
    this.eps = options.eps ?? 0.25;
    this.minBound = options.minBound ?? 0;
    this.ring = new HashRing(hosts, options.vnodes);
    this.name = `bounded-load(eps=${this.eps})`;
  }

  /** The load at which a host counts as full, given the current total. */
  bound(total: number): number {
    return Math.max(this.minBound, Math.ceil(((1 + this.eps) * (total + 1)) / this.hosts));
  }

  pick(worker: string, loads: LoadView, tried?: ReadonlySet<number>): number {
    const bound = this.bound(loads.total());
    let fallback = -1;
    const found = this.ring.walk(worker, (host) => {
      if (tried?.has(host)) return false;
      if (fallback < 0) fallback = host;
      return loads.load(host) < bound;
    });
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
