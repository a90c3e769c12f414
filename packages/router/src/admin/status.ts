import { cpus, freemem, loadavg, totalmem } from 'node:os';
import type { HostStats } from '../host/types.js';
import type { WorkerStats } from '../router.js';
import type { HostLoad, RecentError, StatusHistory, WorkerSeries } from './history.js';

/** One worker on the status page. */
export interface WorkerStatus extends WorkerStats {
  /** Over the last 10 whole seconds. */
  requestsPerSecond: number;
  /** Share of requests that found a warm isolate, 0-1 (null before the first request). */
  warmRatio: number | null;
  /** Percentiles of the worker's last 1000 requests, in ms (null before the first). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests that failed (kept in `errors`, the last 50 over all workers). */
  errors: number;
  /** One sample a second for the plots, aligned with {@link StatusSeries.t}. */
  series: WorkerSeries;
}

/** A host with its process's CPU and memory. */
export type HostStatus = HostStats & HostLoad;

/** The machine the router runs on. */
export interface SystemStatus {
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  cpus: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  /** The router process itself. */
  rssBytes: number;
  uptimeSeconds: number;
}

/** Everything the status page shows, as `/__pyworkers/status` serves it. */
export interface StatusExtras {
  /** When this status was made (ms since the epoch). */
  time: number;
  /** End of each one-second sample, ms since the epoch, oldest first. */
  seriesTimes: number[];
  workers: WorkerStatus[];
  hosts: HostStatus[];
  system: SystemStatus;
  errors: RecentError[];
}

/** Adds rates, percentiles, warm ratio, series, host load and recent errors to the counters. */
export function statusExtras(
  history: StatusHistory,
  counters: WorkerStats[],
  hosts: HostStats[],
  errorCounts: Map<string, number>,
  startedAt: number,
): StatusExtras {
  const now = Date.now();
  return {
    time: now,
    seriesTimes: [...history.times],
    workers: counters.map((c) => ({
      ...c,
      ...history.summary(c.worker),
      warmRatio:
        c.requests > 0 ? +Math.max(0, (c.requests - c.coldStarts) / c.requests).toFixed(4) : null,
      errors: errorCounts.get(c.worker) ?? 0,
      series: history.series(c.worker),
    })),
    hosts: hosts.map((h) => ({
      ...h,
      ...(history.hostLoad.get(h.id) ?? { cpuPercent: null, rssBytes: null }),
    })),
    system: {
      loadavg: loadavg().map((n) => +n.toFixed(2)),
      cpus: cpus().length,
      totalMemoryBytes: totalmem(),
      freeMemoryBytes: freemem(),
      rssBytes: process.memoryUsage.rss(),
      uptimeSeconds: Math.round((now - startedAt) / 1000),
    },
    errors: [...history.errors],
  };
}
