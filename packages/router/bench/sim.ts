// A discrete-event simulation that drives the router's real placement (BoundedLoadPlacement,
// RandomPlacement) and warm/evict code (WarmSet + LruPolicy/FrequencyPolicy) with fake
// isolate hosts: an isolate "starts" instantly and a request just occupies it for a while.
import {
  BoundedLoadPlacement,
  createEvictionPolicy,
  type EvictionPolicyName,
  LoadTracker,
  type PlacementPolicy,
  RandomPlacement,
  type WarmIsolate,
  WarmSet,
} from '../src/index.js';

export interface SimConfig {
  hosts: number;
  workers: number;
  zipf: number;
  /** Warm isolates per host (each fake isolate weighs 1). */
  isolatesPerHost: number;
  /** Requests one isolate runs at once (the router's per-isolate concurrency limit). */
  concurrency: number;
  /** Mean in-flight requests per host (sets the arrival rate; mean service time is 1). */
  meanInflightPerHost: number;
  /** Extra service time of a request that needed a cold start. */
  coldPenalty: number;
  /** A host refuses past this many in-flight requests (then the next host is tried). */
  maxInflightPerHost: number;
  requests: number;
  /** Requests before measuring starts (caches fill first). */
  warmup: number;
  seed: number;
  /** Smoothing of the load placement sees, in mean service times (0: instantaneous). */
  tau: number;
  /** Prefer, among hosts under the bound, one where the worker is warm. */
  preferWarm: boolean;
}

export type Strategy =
  | { kind: 'bounded'; eps: number; eviction: EvictionPolicyName }
  | { kind: 'random'; eviction: EvictionPolicyName }
  /** One cache with every host's memory together: the bound sharding aims at. */
  | { kind: 'global'; eviction: EvictionPolicyName };

export interface SimResult {
  coldRate: number;
  sheds: number;
  /** Busiest host's time-averaged in-flight load / the mean over hosts. */
  maxOverMeanLoad: number;
  /** Busiest host's served requests / the mean over hosts. */
  maxOverMeanRequests: number;
  /** Requests served off their worker's home host (the first on the ring). */
  spillRate: number;
  /** Cold starts among spilled requests / all requests. */
  coldSpilledRate: number;
  ms: number;
}

/** mulberry32: a small seeded PRNG so every strategy sees the same request stream. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 1; k <= n; k++) {
    sum += 1 / k ** s;
    cdf[k - 1] = sum;
  }
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** A binary min-heap of completion events keyed by time. */
class EventHeap {
  private readonly times: number[] = [];
  private readonly items: { host: number; iso: WarmIsolate }[] = [];
  get size(): number {
    return this.times.length;
  }
  peekTime(): number {
    return this.times[0] ?? Number.POSITIVE_INFINITY;
  }
  push(time: number, item: { host: number; iso: WarmIsolate }): void {
    const t = this.times;
    const it = this.items;
    let i = t.length;
    t.push(time);
    it.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= time) break;
      t[i] = t[p]!;
      it[i] = it[p]!;
      i = p;
    }
    t[i] = time;
    it[i] = item;
  }
  pop(): { host: number; iso: WarmIsolate } {
    const t = this.times;
    const it = this.items;
    const top = it[0]!;
    const lastT = t.pop()!;
    const lastI = it.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lastT) break;
        t[i] = t[c]!;
        it[i] = it[c]!;
        i = c;
      }
      t[i] = lastT;
      it[i] = lastI;
    }
    return top;
  }
}

/** Runs one strategy over the configured request stream. */
export function simulate(config: SimConfig, strategy: Strategy): SimResult {
  const t0 = performance.now();
  const random = prng(config.seed);
  const nextWorker = zipfSampler(config.workers, config.zipf, random);
  const names = Array.from({ length: config.workers }, (_, i) => `worker-${i}`);
  const hostCount = strategy.kind === 'global' ? 1 : config.hosts;
  const capacity =
    strategy.kind === 'global' ? config.hosts * config.isolatesPerHost : config.isolatesPerHost;
  const placement: PlacementPolicy =
    strategy.kind === 'bounded'
      ? new BoundedLoadPlacement(hostCount, { eps: strategy.eps, minBound: config.concurrency })
      : new RandomPlacement(hostCount, prng(config.seed + 1));
  const sets = Array.from(
    { length: hostCount },
    () =>
      new WarmSet<WarmIsolate>(
        capacity,
        createEvictionPolicy(strategy.eviction),
        config.concurrency,
      ),
  );
  let now = 0;
  const load = new Float64Array(hostCount);
  const loads = new LoadTracker(hostCount, { tau: config.tau, now: () => now });
  const area = new Float64Array(hostCount);
  const served = new Float64Array(hostCount);
  const last = new Float64Array(hostCount);
  const maxInflight =
    strategy.kind === 'global' ? Number.POSITIVE_INFINITY : config.maxInflightPerHost;
  const rate = config.hosts * config.meanInflightPerHost;
  const heap = new EventHeap();
  const idle = { load: () => 0, total: () => 0 };
  let measuring = false;
  let measureStart = 0;
  let cold = 0;
  let sheds = 0;
  let spilled = 0;
  let coldSpilled = 0;

  const change = (h: number, delta: number): void => {
    if (measuring) area[h]! += load[h]! * (now - last[h]!);
    last[h] = now;
    load[h]! += delta;
    loads.add(h, delta);
  };
  const finish = (h: number, iso: WarmIsolate): void => {
    change(h, -1);
    iso.inflight--;
    const set = sets[h]!;
    if (!set.fits(0, 0)) set.evictFor(0, 0);
  };

  for (let r = 0; r < config.requests; r++) {
    now += -Math.log(1 - random()) / rate;
    while (heap.peekTime() <= now) {
      const t = heap.peekTime();
      const saved = now;
      now = t;
      const ev = heap.pop();
      finish(ev.host, ev.iso);
      now = saved;
    }
    if (r === config.warmup) {
      measuring = true;
      measureStart = now;
      last.fill(now);
    }
    const worker = names[nextWorker()]!;
    const tried = new Set<number>();
    let first = -1;
    let host = -1;
    let iso: WarmIsolate | undefined;
    let wasCold = false;
    for (;;) {
      const pick = placement.pick(
        worker,
        loads,
        tried,
        config.preferWarm ? (h) => sets[h]!.isolates(worker).length > 0 : undefined,
      );
      const force = pick < 0;
      host = force ? first : pick;
      if (first < 0) first = host;
      const set = sets[host]!;
      if (!force && load[host]! >= maxInflight) {
        tried.add(host);
        if (measuring) sheds++;
        continue;
      }
      iso = set.acquire(worker);
      if (!iso) {
        set.evictFor(1, 1);
        if (!set.fits(1, 1) && !force) {
          tried.add(host);
          if (measuring) sheds++;
          continue;
        }
        iso = { worker, bytes: 1, inflight: 0, ready: true };
        set.add(iso);
        wasCold = true;
      }
      break;
    }
    iso.inflight++;
    change(host, 1);
    if (measuring) {
      served[host]!++;
      if (wasCold) cold++;
      if (tried.size > 0 || host !== placement.pick(worker, idle)) {
        spilled++;
        if (wasCold) coldSpilled++;
      }
    }
    const service = -Math.log(1 - random()) + (wasCold ? config.coldPenalty : 0);
    heap.push(now + service, { host, iso });
  }
  for (let h = 0; h < hostCount; h++) area[h]! += load[h]! * (now - last[h]!);
  const measured = config.requests - config.warmup;
  const ratio = (xs: Float64Array): number => {
    let max = 0;
    let sum = 0;
    for (const x of xs) {
      max = Math.max(max, x);
      sum += x;
    }
    return sum === 0 ? 0 : max / (sum / xs.length);
  };
  void measureStart;
  return {
    coldRate: cold / measured,
    sheds: sheds / measured,
    spillRate: spilled / measured,
    coldSpilledRate: coldSpilled / measured,
    maxOverMeanLoad: ratio(area),
    maxOverMeanRequests: ratio(served),
    ms: performance.now() - t0,
  };
}
