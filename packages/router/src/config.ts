import { availableParallelism, totalmem } from 'node:os';
import { formatIssues } from '@pyworkers/common';
import { z } from 'zod';
import { isAdminPath } from './admin/access.js';
import { RouterError } from './errors.js';
import type { RouterOptions } from './router.js';

/** The router's knobs, checked with zod (they come from flags, env vars and config files). */
export const routerConfigSchema = z.object({
  /**
   * Isolate hosts (default: one per 4 cores, at least 1). A host process runs many isolate
   * threads, which use every core: more processes only add ~100 MiB each (a node, a compiled
   * Pyodide, a parked pool) and a hop.
   */
  hosts: z.number().int().min(1).max(1024).optional(),
  /** `process`: each host is a child process (default); `local`: all in this process. */
  hostKind: z.enum(['process', 'local']).default('process'),
  /** Memory all warm isolates may hold together (default: half the machine's memory). */
  memoryBudgetBytes: z.number().int().positive().optional(),
  /**
   * Most isolates kept at once, whatever their size (default: only the memory budget counts).
   * Split over hosts; a host whose share is used up sends cold starts to the next host.
   */
  maxIsolates: z.number().int().min(1).optional(),
  /** Requests one isolate runs at once before its worker gets another isolate. */
  concurrency: z.number().int().min(1).default(16),
  /**
   * A worker whose least busy isolate runs this many requests gets another isolate on the same
   * host, up to one per core of the host's share, so that a hot CPU-bound worker (a Python
   * isolate runs one request at a time) uses every core (default 4).
   */
  spreadAt: z.number().int().min(1).default(4),
  /** In-flight requests past which a host refuses (the request goes to the next host). */
  maxInflightPerHost: z.number().int().min(1).default(256),
  /**
   * Bounded-load slack: a host is full at (1 + eps) x the mean load. 0.5 because in the
   * placement simulation it had the fewest cold starts of 0.1/0.25/0.5 and its busiest host
   * still stayed under 1.5 x the mean (bench/placement.bench.ts).
   */
  eps: z.number().positive().max(10).default(0.5),
  /** Which idle isolate goes first when over budget. */
  eviction: z.enum(['lru', 'frequency']).default('frequency'),
  /**
   * Isolates each host keeps booted from the baseline and parked, so that a cold start swaps the
   * worker's snapshot into one in place (default 1; 0: every cold start boots a thread, ~0.4 s).
   * Each parked isolate holds ~45-85 MB. Not with `createRouter({ launcher })`.
   */
  poolSize: z.number().int().min(0).max(64).optional(),
  /**
   * How far each host's pool may grow past `poolSize` while cold starts come faster than it
   * refills; it shrinks back when they stop (default: what 1/16 of the host's share of the
   * memory budget holds, at ~64 MiB per parked isolate, at most 8).
   */
  maxPoolSize: z.number().int().min(0).max(64).optional(),
  /**
   * `bwrap`: run each host process under bubblewrap (own PID namespace and /proc, read-only
   * file system, home directories hidden, no capabilities; src/host/sandbox.ts). Process hosts
   * only; needs `bwrap` on PATH.
   */
  sandbox: z.enum(['none', 'bwrap']).default('none'),
  /** Extra directories a sandboxed host may write (e.g. the bindings' state directory). */
  sandboxWritable: z.array(z.string()).default([]),
  /** Extra directories a sandboxed host may read when they are hidden (project directories under /tmp or /home: assets). */
  sandboxReadable: z.array(z.string()).default([]),
  /**
   * With `sandbox: 'bwrap'`: also a seccomp filter refusing the syscalls a host never needs
   * (namespaces, mounts, ptrace, bpf, ...; src/host/seccomp.ts). x86-64 only; elsewhere skipped.
   */
  sandboxSeccomp: z.boolean().default(true),
  /** Largest request body accepted, in bytes (default 100 MiB). */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(100 * 1024 * 1024),
  /** Largest request head accepted, in bytes (default 16 KiB; 431 past it). */
  maxHeaderBytes: z
    .number()
    .int()
    .positive()
    .default(16 * 1024),
  /** A client must send its whole request head within this (default 10 s; then 408). */
  headersTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * A client must send a small request body (<= 64 KiB) within this, and may keep a worker that
   * reads a streamed body waiting for its next bytes no longer (default 60 s; then 408). An
   * upload that keeps flowing may take as long as it needs.
   */
  requestTimeoutMs: z.number().int().positive().default(60_000),
  /** An idle keep-alive connection is closed after this (default 5 s). */
  keepAliveTimeoutMs: z.number().int().positive().default(5_000),
  /** On close, in-flight requests get at most this long to finish (default 10 s). */
  drainTimeoutMs: z.number().int().nonnegative().default(10_000),
});

/** The router's configuration once defaults are applied. */
export type RouterConfig = Omit<
  z.infer<typeof routerConfigSchema>,
  'hosts' | 'memoryBudgetBytes'
> & { hosts: number; memoryBudgetBytes: number };

/**
 * The router's config from its options: checked (the zod schema, options that exclude each
 * other, routes inside the router's own /__pyworkers/ paths) with the machine's defaults filled.
 */
export function resolveConfig(options: RouterOptions): RouterConfig {
  const parsed = routerConfigSchema.safeParse(options);
  if (!parsed.success) {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      `router option ${formatIssues(parsed.error.issues, { max: 1 })}`,
    );
  }
  if (options.launcher && parsed.data.hostKind === 'process') {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      "router option launcher: applies to in-process hosts only, but hostKind is 'process' (each host process makes its own pooled launcher); pass hostKind: 'local' with it, or drop it and set poolSize",
    );
  }
  for (const key of ['poolSize', 'maxPoolSize'] as const) {
    if (options.launcher && parsed.data[key] !== undefined) {
      throw new RouterError(
        'ERR_ROUTER_CONFIG',
        `router options launcher and ${key}: ${key} sizes the default launcher, which the given launcher replaces; size the pool of the launcher you pass instead`,
      );
    }
  }
  if (
    parsed.data.maxPoolSize !== undefined &&
    parsed.data.maxPoolSize < (parsed.data.poolSize ?? 1)
  ) {
    throw new RouterError(
      'ERR_ROUTER_CONFIG',
      `router option maxPoolSize (${parsed.data.maxPoolSize}) is below poolSize (${parsed.data.poolSize ?? 1}); raise maxPoolSize or lower poolSize`,
    );
  }
  for (const w of options.workers)
    for (const r of w.routes)
      if (r.pathPrefix && isAdminPath(r.pathPrefix))
        throw new RouterError(
          'ERR_ROUTER_CONFIG',
          `worker ${w.name}: route ${r.pathPrefix} is inside /__pyworkers/, which the router keeps for its status page; pick another path`,
        );
  return {
    ...parsed.data,
    hosts: parsed.data.hosts ?? Math.max(1, Math.floor(availableParallelism() / 4)),
    memoryBudgetBytes: parsed.data.memoryBudgetBytes ?? Math.floor(totalmem() * 0.5),
  };
}

/** What a parked isolate holds, for sizing pools from the memory budget. */
const PARKED_ISOLATE_BYTES = 64 * 1024 * 1024;

/** The parked pool of each host: the floor it refills to, and how far a burst may grow it. */
export function poolLimits(config: RouterConfig): { poolSize: number; maxPoolSize: number } {
  const poolSize = config.poolSize ?? 1;
  const fromBudget = Math.floor(
    config.memoryBudgetBytes / config.hosts / 16 / PARKED_ISOLATE_BYTES,
  );
  return {
    poolSize,
    maxPoolSize: config.maxPoolSize ?? Math.max(poolSize, Math.min(8, fromBudget)),
  };
}
