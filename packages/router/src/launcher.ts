import {
  type Bundle,
  Isolate,
  type IsolateRequest,
  type IsolateStreamingResponse,
  type Logger,
  type WorkerEvent,
  type WorkerEventResult,
} from '@pyworkers/isolate';

/** A running isolate as the router uses it. `Isolate` from `@pyworkers/isolate` is one. */
export interface IsolateHandle {
  /** Runs a request; the response body may be a stream (pulled at the client's pace). */
  fetch(request: IsolateRequest, options?: { stream: true }): Promise<IsolateStreamingResponse>;
  /** Runs a `scheduled` or `queue` event (`Isolate.dispatch`); without it the worker gets none. */
  dispatch?(event: WorkerEvent): Promise<WorkerEventResult>;
  close(): Promise<void>;
  /** Memory the isolate holds, when the launcher can tell (else the router estimates). */
  memoryBytes?(): number;
}

/**
 * Starts isolates for bundles. The default restores each one with `Isolate.start`; a faster
 * launcher (a parked pool with an in-place snapshot swap) slots in through
 * `createRouter({ launcher })`.
 */
export interface IsolateLauncher {
  launch(
    bundle: Bundle,
    options: { logger: Logger; secrets?: Record<string, string> },
  ): Promise<IsolateHandle>;
  /** Stops anything the launcher keeps around (parked isolates). */
  close?(): Promise<void>;
}

/** The launcher used when none is given: one `Isolate.start` per cold start. */
export const defaultLauncher: IsolateLauncher = {
  launch: (bundle, options) => Isolate.start(bundle, options),
};

// A restored Pyodide holds its whole wasm heap (about the snapshot's size, ~30 MiB for a bare
// interpreter) plus a V8 isolate and Pyodide's JS (~40 MiB measured with worker_threads).
const ISOLATE_OVERHEAD_BYTES = 40 * 1024 * 1024;
const MIN_HEAP_BYTES = 32 * 1024 * 1024;

/** What an isolate of `bundle` is expected to hold before it reports its own size. */
export function estimateIsolateBytes(bundle: Bundle): number {
  return Math.max(MIN_HEAP_BYTES, bundle.snapshot?.byteLength ?? 0) + ISOLATE_OVERHEAD_BYTES;
}
