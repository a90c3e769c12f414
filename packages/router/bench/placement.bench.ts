// Placement and eviction, simulated with the router's real BoundedLoadPlacement, WarmSet and
// eviction policies over fake hosts: 100 hosts, 10,000 workers, Zipf(1.1) popularity, 50 warm
// isolates per host. Run: npm run bench:placement -w @pyworkers/router
import { type SimConfig, type SimResult, type Strategy, simulate } from './sim.js';

const base: SimConfig = {
  hosts: 100,
  workers: 10_000,
  zipf: 1.1,
  isolatesPerHost: 50,
  concurrency: 4,
  meanInflightPerHost: 8,
  coldPenalty: 1,
  maxInflightPerHost: 32,
  requests: Number(process.env.SIM_REQUESTS ?? 800_000),
  warmup: Number(process.env.SIM_WARMUP ?? 200_000),
  seed: 42,
  tau: 0,
  preferWarm: true,
};

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

function table(config: SimConfig): void {
  console.log(
    `\n### ${config.meanInflightPerHost} mean in-flight requests per host ` +
      `(hosts refuse past ${config.maxInflightPerHost}; ${config.concurrency} requests per isolate; ` +
      `${config.requests - config.warmup} measured requests after ${config.warmup} to warm up)\n`,
  );
  const rows: { label: string; s: Strategy; r: SimResult }[] = [];
  for (const eviction of ['lru', 'frequency'] as const) {
    const strategies: [string, Strategy][] = [
      ['one global cache (all hosts memory)', { kind: 'global', eviction }],
      ['random host per request', { kind: 'random', eviction }],
      // No load bound at all (hosts still refuse past maxInflightPerHost): the cache-locality
      // ceiling of sharding, and what the load bound costs.
      ['consistent hashing, no load bound', { kind: 'bounded', eps: 1e6, eviction }],
      ...[0.1, 0.25, 0.5].map(
        (eps) =>
          [`bounded-load eps=${eps}`, { kind: 'bounded', eps, eviction }] as [string, Strategy],
      ),
    ];
    for (const [label, s] of strategies) rows.push({ label, s, r: simulate(config, s) });
  }
  const globalLru = rows.find((x) => x.s.kind === 'global' && x.s.eviction === 'lru')!.r.coldRate;
  console.log(
    '| placement | eviction | cold starts | random / this | this / global LRU | spilled off home | shed | busiest / mean load | limit 1+eps | sim time |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const { label, s, r } of rows) {
    const random = rows.find((x) => x.s.kind === 'random' && x.s.eviction === s.eviction)!.r;
    console.log(
      `| ${label} | ${s.eviction} | ${pct(r.coldRate)} | ${(random.coldRate / r.coldRate).toFixed(2)}x | ` +
        `${(r.coldRate / globalLru).toFixed(3)} | ${pct(r.spillRate)} | ${pct(r.sheds)} | ` +
        `${s.kind === 'global' ? '-' : r.maxOverMeanLoad.toFixed(3)} | ` +
        `${s.kind === 'bounded' && s.eps < 1e6 ? (1 + s.eps).toFixed(2) : '-'} | ${(r.ms / 1000).toFixed(1)} s |`,
    );
  }
}

console.log(
  `## Placement simulation: ${base.hosts} hosts, ${base.workers} workers, Zipf(${base.zipf}), ` +
    `${base.isolatesPerHost} warm isolates per host`,
);
for (const level of [8, 32])
  table({ ...base, meanInflightPerHost: level, maxInflightPerHost: level * 4 });
