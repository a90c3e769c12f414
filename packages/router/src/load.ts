import type { LoadView } from './placement.js';

/** Options of {@link LoadTracker}. */
export interface LoadTrackerOptions {
  /**
   * Time constant of the smoothing, in the clock's unit (0: the instantaneous in-flight count).
   * Placement on a smoothed load moves a worker off its home host when that host is busy for
   * a while, not on every momentary burst, so fewer requests land on a host where the worker
   * is cold; momentary overload is what host refusals (shedding) are for.
   */
  tau: number;
  /** The clock (default `performance.now`, milliseconds). */
  now?: () => number;
}

/**
 * In-flight requests per host, and their exponentially smoothed average (an EWMA in
 * continuous time: the count is constant between two changes, so the decay is exact).
 */
export class LoadTracker implements LoadView {
  private readonly inflight: Float64Array;
  private readonly smooth: Float64Array;
  private readonly last: Float64Array;
  private sumInflight = 0;
  private sumSmooth = 0;
  private sumLast = 0;
  private readonly tau: number;
  private readonly now: () => number;

  constructor(hosts: number, options: LoadTrackerOptions) {
    this.inflight = new Float64Array(hosts);
    this.smooth = new Float64Array(hosts);
    this.last = new Float64Array(hosts);
    this.tau = options.tau;
    this.now = options.now ?? (() => performance.now());
  }

  private decayed(smooth: number, inflight: number, since: number, at: number): number {
    if (this.tau <= 0) return inflight;
    return inflight + (smooth - inflight) * Math.exp(-(at - since) / this.tau);
  }

  /** A request started (+1) or ended (-1) on `host`. */
  add(host: number, delta: number): void {
    const at = this.now();
    this.smooth[host] = this.decayed(
      this.smooth[host]!,
      this.inflight[host]!,
      this.last[host]!,
      at,
    );
    this.last[host] = at;
    this.inflight[host]! += delta;
    this.sumSmooth = this.decayed(this.sumSmooth, this.sumInflight, this.sumLast, at);
    this.sumLast = at;
    this.sumInflight += delta;
  }

  /** Requests running on `host` right now. */
  current(host: number): number {
    return this.inflight[host]!;
  }

  load(host: number): number {
    return this.decayed(this.smooth[host]!, this.inflight[host]!, this.last[host]!, this.now());
  }

  total(): number {
    return this.decayed(this.sumSmooth, this.sumInflight, this.sumLast, this.now());
  }
}
