/** Limits of one isolate. Over one, the isolate is terminated; the request gets an IsolateError. */
export interface IsolateLimits {
  /** Wall-clock time one request may take, in ms (default 30 000). */
  requestTimeoutMs: number;
  /** Largest the Python (WebAssembly) heap may grow, in bytes (default 256 MiB). */
  memoryBytes: number;
  /** Largest the isolate's V8 old generation may grow, in MiB (default 128). */
  jsHeapMb: number;
}

/** The limits used where none are given. */
export const DEFAULT_LIMITS: Readonly<IsolateLimits> = Object.freeze({
  requestTimeoutMs: 30_000,
  memoryBytes: 256 * 1024 * 1024,
  jsHeapMb: 128,
});

/** Fills in defaults. */
export function resolveLimits(limits: Partial<IsolateLimits> = {}): IsolateLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

/** The limits a worker's own config may set (stored in its bundle's manifest). */
export type WorkerLimitOverrides = Partial<Pick<IsolateLimits, 'requestTimeoutMs' | 'memoryBytes'>>;

/** `base` with the worker's own limits laid over it. */
export function withWorkerLimits(base: IsolateLimits, worker: WorkerLimitOverrides): IsolateLimits {
  return {
    ...base,
    ...(worker.requestTimeoutMs !== undefined ? { requestTimeoutMs: worker.requestTimeoutMs } : {}),
    ...(worker.memoryBytes !== undefined ? { memoryBytes: worker.memoryBytes } : {}),
  };
}

/** Memory an isolate holds: its WebAssembly heap and its V8 heap, as the OS counts them. */
export interface MemoryReport {
  /**
   * Resident bytes of the WebAssembly memory (its pages the OS counts in RSS; pages the snapshot
   * left zero and nothing wrote are not), or its whole size where /proc cannot say.
   */
  wasmBytes: number;
  /** V8's committed heap pages (`total_physical_size`). */
  jsHeapBytes: number;
  /** Whether `wasmBytes` was measured (Linux /proc), not the memory's size. */
  resident?: boolean;
}
