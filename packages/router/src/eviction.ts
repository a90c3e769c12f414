/**
 * Decides which worker loses a warm isolate when a host is over its memory budget.
 * Implementations are interchangeable (a shared contract suite runs against each).
 */
export interface EvictionPolicy {
  readonly name: string;
  /** A request for `key` arrived (hit or miss). */
  touch(key: string): void;
  /** `key` now has a warm isolate. */
  admit(key: string): void;
  /** `key` has no warm isolate left. */
  forget(key: string): void;
  /** The least valuable resident key that `evictable` accepts, or undefined for none. */
  victim(evictable: (key: string) => boolean): string | undefined;
}

/** Names of the built-in eviction policies. */
export type EvictionPolicyName = 'lru' | 'frequency';

/** Least recently used: the resident key whose last request is oldest goes first. */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru';
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  private readonly order = new Map<string, true>();

  touch(key: string): void {
    if (this.order.delete(key)) this.order.set(key, true);
  }
  admit(key: string): void {
    this.order.delete(key);
    this.order.set(key, true);
  }
  forget(key: string): void {
    this.order.delete(key);
  }
  victim(evictable: (key: string) => boolean): string | undefined {
    for (const key of this.order.keys()) if (evictable(key)) return key;
    return undefined;
  }
}

/** Options of {@link FrequencyPolicy}. */
export interface FrequencyPolicyOptions {
  /**
   * Requests between two halvings of every count, as a multiple of the resident keys
   * (default 16): counts age so that a worker that was hot an hour ago does not stay forever.
   */
  windowPerResident?: number;
}

/**
 * Frequency-aware, in the spirit of TinyLFU: counts requests for every worker, resident or
 * not, halves all counts every window, and evicts the resident with the lowest count (the
 * least recently used among equals). A worker seen once (a crawler, a one-off) is evicted
 * before a steadily used one even if it came last, and a worker that keeps being requested
 * while cold builds up a count that gets it kept once it is warm.
 */
export class FrequencyPolicy implements EvictionPolicy {
  readonly name = 'frequency';
  private readonly counts = new Map<string, number>();
  private readonly resident = new Map<string, number>();
  private tick = 0;
  private sinceAging = 0;
  private readonly windowPerResident: number;

  constructor(options: FrequencyPolicyOptions = {}) {
    this.windowPerResident = options.windowPerResident ?? 16;
  }

  touch(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    if (this.resident.has(key)) this.resident.set(key, ++this.tick);
    if (++this.sinceAging >= Math.max(64, this.windowPerResident * this.resident.size)) this.age();
  }
  admit(key: string): void {
    this.resident.set(key, ++this.tick);
  }
  forget(key: string): void {
    this.resident.delete(key);
  }
  victim(evictable: (key: string) => boolean): string | undefined {
    let best: string | undefined;
    let bestCount = Number.POSITIVE_INFINITY;
    let bestTick = Number.POSITIVE_INFINITY;
    for (const [key, tick] of this.resident) {
      const count = this.counts.get(key) ?? 0;
      if (count > bestCount || (count === bestCount && tick >= bestTick)) continue;
      if (!evictable(key)) continue;
      best = key;
      bestCount = count;
      bestTick = tick;
    }
    return best;
  }

  private age(): void {
    this.sinceAging = 0;
    for (const [key, count] of this.counts) {
      const half = count >>> 1;
      if (half === 0) this.counts.delete(key);
      else this.counts.set(key, half);
    }
  }
}

/** A fresh policy of the named kind (each host keeps its own). */
export function createEvictionPolicy(name: EvictionPolicyName): EvictionPolicy {
  return name === 'lru' ? new LruPolicy() : new FrequencyPolicy();
}
