import { readFileSync } from 'node:fs';
import type { Logger } from '@pyworkers/isolate';
import type { HostStats } from '../host/types.js';

/** How many one-second samples the plots keep (5 minutes). */
export const HISTORY_SECONDS = 300;
/** Latency percentiles are over this many of a worker's most recent requests. */
export const LATENCY_WINDOW = 1000;
/** Requests per second is averaged over this many whole seconds. */
export const RATE_SECONDS = 10;
/** How many recent errors are kept. */
export const ERRORS_KEPT = 50;

/** A request that failed: what the status page lists under "recent errors". */
export interface RecentError {
  time: number;
  worker: string | undefined;
  method: string | undefined;
  url: string;
  status: number;
  /** The error's message; a Python exception's full traceback. */
  message: string;
}

/** One-second samples, oldest first; `t` is the second's end (ms since the epoch). */
export interface WorkerSeries {
  requestsPerSecond: number[];
  p50Ms: (number | null)[];
  p99Ms: (number | null)[];
  coldStarts: number[];
  isolates: number[];
  memoryBytes: number[];
}

/** A host process's own load, read from /proc where there is one. */
export interface HostLoad {
  /** CPU used over the last second, percent of one core (null where unknown). */
  cpuPercent: number | null;
  /** Resident memory of the process, bytes (null where unknown). */
  rssBytes: number | null;
}

/** The value at quantile `q` (0-1) of `xs`, nearest rank; null when empty. */
export function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const round = (n: number | null, digits = 2): number | null =>
  n === null ? null : +n.toFixed(digits);

interface WorkerTrack {
  recent: number[];
  next: number;
  /** Durations of the second in progress. */
  second: number[];
  coldStartsThisSecond: number;
  series: WorkerSeries;
}

const CLK_TCK = 100;

function procLoad(pid: number): { ticks: number; rss: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
    return Number.isFinite(ticks) && Number.isFinite(rss) ? { ticks, rss } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the status page plots and lists: per-second samples of each worker (requests/s,
 * latency percentiles, cold starts, isolates, memory), a window of recent latencies, recent
 * errors, and each host process's CPU and memory. Fed by the router as requests finish and
 * once a second by {@link StatusHistory.sample}.
 */
export class StatusHistory {
  readonly times: number[] = [];
  readonly errors: RecentError[] = [];
  readonly hostLoad = new Map<number, HostLoad>();
  private readonly tracks = new Map<string, WorkerTrack>();
  private readonly lastTicks = new Map<number, { ticks: number; at: number }>();
  /** Tracebacks the isolates logged lately, per worker, to attach to the failed request. */
  private readonly tracebacks = new Map<string, { text: string; at: number }[]>();

  constructor(
    workers: string[],
    /** Applied to each error's text, e.g. to map isolate paths in a traceback to the user's. */
    private readonly rewrite: (text: string, worker?: string) => string = (t) => t,
  ) {
    for (const w of workers) this.track(w);
  }

  private track(worker: string): WorkerTrack {
    let t = this.tracks.get(worker);
    if (!t) {
      t = {
        recent: [],
        next: 0,
        second: [],
        coldStartsThisSecond: 0,
        series: {
          requestsPerSecond: [],
          p50Ms: [],
          p99Ms: [],
          coldStarts: [],
          isolates: [],
          memoryBytes: [],
        },
      };
      // Earlier seconds had nothing: keep every series as long as `times`.
      for (const k of Object.keys(t.series) as (keyof WorkerSeries)[])
        (t.series[k] as (number | null)[]).push(
          ...this.times.map(() => (k.startsWith('p') ? null : 0)),
        );
      this.tracks.set(worker, t);
    }
    return t;
  }

  /** A request of `worker` finished after `ms`. */
  request(worker: string, ms: number): void {
    const t = this.track(worker);
    if (t.recent.length < LATENCY_WINDOW) t.recent.push(ms);
    else t.recent[t.next] = ms;
    t.next = (t.next + 1) % LATENCY_WINDOW;
    t.second.push(ms);
  }

  coldStart(worker: string): void {
    this.track(worker).coldStartsThisSecond++;
  }

  /**
   * `logger`, also keeping the Python tracebacks isolates log (they log the traceback, then
   * fail the request with its last line; in-process and child-process hosts alike).
   */
  tap(logger: Logger): Logger {
    return {
      debug: (obj, msg) => logger.debug(obj, msg),
      info: (obj, msg) => logger.info(obj, msg),
      warn: (obj, msg) => logger.warn(obj, msg),
      error: (obj, msg) => {
        const worker = (obj as { worker?: unknown }).worker;
        if (typeof worker === 'string' && msg?.startsWith('Traceback (most recent call last)')) {
          const list = this.tracebacks.get(worker) ?? [];
          list.push({ text: msg, at: Date.now() });
          this.tracebacks.set(worker, list.slice(-5));
        }
        logger.error(obj, msg);
      },
    };
  }

  error(e: RecentError): void {
    const list = e.worker ? this.tracebacks.get(e.worker) : undefined;
    const k =
      list?.findIndex(
        (t) => e.time - t.at < 10_000 && t.text.trimEnd().endsWith(e.message.trimEnd()),
      ) ?? -1;
    if (list && k >= 0) {
      e = { ...e, message: list[k]!.text.trimEnd() };
      list.splice(k, 1);
    }
    this.errors.unshift({ ...e, message: this.rewrite(e.message, e.worker) });
    this.errors.length = Math.min(this.errors.length, ERRORS_KEPT);
  }

  /** Closes the second ending at `now` with the hosts' current isolates and memory. */
  sample(now: number, hosts: HostStats[]): void {
    this.times.push(now);
    const perWorker = new Map<string, { isolates: number; bytes: number }>();
    for (const h of hosts)
      for (const w of h.workers) {
        const s = perWorker.get(w.worker) ?? { isolates: 0, bytes: 0 };
        s.isolates += w.isolates;
        s.bytes += w.bytes;
        perWorker.set(w.worker, s);
      }
    for (const [name, t] of this.tracks) {
      const s = t.series;
      s.requestsPerSecond.push(t.second.length);
      s.p50Ms.push(round(quantile(t.second, 0.5)));
      s.p99Ms.push(round(quantile(t.second, 0.99)));
      s.coldStarts.push(t.coldStartsThisSecond);
      s.isolates.push(perWorker.get(name)?.isolates ?? 0);
      s.memoryBytes.push(perWorker.get(name)?.bytes ?? 0);
      t.second = [];
      t.coldStartsThisSecond = 0;
    }
    if (this.times.length > HISTORY_SECONDS) {
      this.times.shift();
      for (const t of this.tracks.values())
        for (const k of Object.keys(t.series) as (keyof WorkerSeries)[]) t.series[k].shift();
    }
    for (const h of hosts) {
      const load = procLoad(h.pid);
      const last = this.lastTicks.get(h.id);
      this.hostLoad.set(h.id, {
        cpuPercent:
          load && last && now > last.at
            ? round(((load.ticks - last.ticks) / CLK_TCK / ((now - last.at) / 1000)) * 100, 1)
            : null,
        rssBytes: load?.rss ?? null,
      });
      if (load) this.lastTicks.set(h.id, { ticks: load.ticks, at: now });
    }
  }

  /** Requests/s over the last {@link RATE_SECONDS} whole seconds, p50/p99 of recent requests. */
  summary(worker: string): {
    requestsPerSecond: number;
    p50Ms: number | null;
    p99Ms: number | null;
  } {
    const t = this.track(worker);
    const last = t.series.requestsPerSecond.slice(-RATE_SECONDS);
    const rate = last.length ? last.reduce((a, b) => a + b, 0) / RATE_SECONDS : 0;
    return {
      requestsPerSecond: +rate.toFixed(1),
      p50Ms: round(quantile(t.recent, 0.5)),
      p99Ms: round(quantile(t.recent, 0.99)),
    };
  }

  series(worker: string): WorkerSeries {
    return this.track(worker).series;
  }
}
