import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { HostStats } from './host/types.js';

/**
 * The router's Prometheus metrics, in a registry of its own (two routers in one process do
 * not share counters). Gauges are read from the hosts when scraped.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'worker' | 'status'>;
  readonly coldStarts: Counter<'worker'>;
  readonly evictions: Counter<'worker'>;
  readonly sheds: Counter<'worker' | 'reason'>;
  readonly duration: Histogram<'worker'>;

  constructor(hostStats: () => Promise<HostStats[]>) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'pyworkers_requests_total',
      help: 'Requests answered, by worker and HTTP status.',
      labelNames: ['worker', 'status'],
      registers,
    });
    this.coldStarts = new Counter({
      name: 'pyworkers_cold_starts_total',
      help: 'Isolates started because no warm isolate of the worker had room.',
      labelNames: ['worker'],
      registers,
    });
    this.evictions = new Counter({
      name: 'pyworkers_evictions_total',
      help: 'Idle isolates stopped to stay within the memory budget.',
      labelNames: ['worker'],
      registers,
    });
    this.sheds = new Counter({
      name: 'pyworkers_sheds_total',
      help: 'Times an overloaded host refused a request, which then went to the next host.',
      labelNames: ['worker', 'reason'],
      registers,
    });
    this.duration = new Histogram({
      name: 'pyworkers_request_duration_seconds',
      help: 'Time from request to response, by worker.',
      labelNames: ['worker'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const perWorker = async (pick: 'isolates' | 'bytes'): Promise<Map<string, number>> => {
      const sums = new Map<string, number>();
      for (const host of await hostStats())
        for (const w of host.workers) sums.set(w.worker, (sums.get(w.worker) ?? 0) + w[pick]);
      return sums;
    };
    new Gauge({
      name: 'pyworkers_isolates',
      help: 'Isolates running (warm or starting), by worker.',
      labelNames: ['worker'],
      registers,
      async collect() {
        this.reset();
        for (const [worker, n] of await perWorker('isolates')) this.set({ worker }, n);
      },
    });
    new Gauge({
      name: 'pyworkers_isolate_memory_bytes',
      help: 'Memory held by isolates (reported or estimated), by worker.',
      labelNames: ['worker'],
      registers,
      async collect() {
        this.reset();
        for (const [worker, n] of await perWorker('bytes')) this.set({ worker }, n);
      },
    });
  }
}
