import { z } from 'zod';

/** The router's knobs, checked with zod (they come from flags, env vars and config files). */
export const routerConfigSchema = z.object({
  /** Isolate hosts (default: one per core). */
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
   * `bwrap`: run each host process under bubblewrap (own PID namespace and /proc, read-only
   * file system, home directories hidden, no capabilities; src/host/sandbox.ts). Process hosts
   * only; needs `bwrap` on PATH.
   */
  sandbox: z.enum(['none', 'bwrap']).default('none'),
  /** Extra directories a sandboxed host may write (e.g. the bindings' state directory). */
  sandboxWritable: z.array(z.string()).default([]),
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
  /** A client must send its whole request within this (default 60 s; then 408). */
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
