import type {
  Bundle,
  HostCallHandler,
  IsolateRequest,
  IsolateStreamingResponse,
  Logger,
  WorkerEvent,
  WorkerEventResult,
} from '@pyworkers/isolate';
import type { PoolStats } from './host/types.js';

/** A running isolate as the router uses it. `Isolate` from `@pyworkers/isolate` is one. */
export interface IsolateHandle {
  /** Runs a request; the response body may be a stream (pulled at the client's pace). */
  fetch(request: IsolateRequest, options?: { stream: true }): Promise<IsolateStreamingResponse>;
  /** Runs a `scheduled` or `queue` event (`Isolate.dispatch`); without it the worker gets none. */
  dispatch?(event: WorkerEvent): Promise<WorkerEventResult>;
  close(): Promise<void>;
  /** Memory the isolate holds, when the launcher can tell (else the router estimates). */
  memoryBytes?(): number;
  /**
   * A lane (`Isolate.openLane`): a host process lets the router send this isolate its plain
   * requests itself, on a Unix socket. Without these, every request goes through the host.
   */
  openLane?(path: string, token: string, lane: number, capacity: number): void;
  /** Closes the lane; resolves once every request it took was answered. */
  closeLane?(): Promise<void>;
  /** Requests running on the lane now. */
  readonly laneLoad?: number;
  /** Resolves once the isolate ended by itself or was ended (a host with lanes learns of a crash it ran no request of). */
  readonly ended?: Promise<unknown>;
  /** Whether it started by a swap into a parked isolate, and that swap's phases (ms): logged. */
  readonly swapped?: boolean;
  readonly bootPhases?: Record<string, number>;
}

/**
 * What starts isolates for the router's in-process hosts: `IsolateLauncher` from
 * `@pyworkers/isolate` (a pool of parked isolates with an in-place snapshot swap) is one, and the
 * one every host uses unless `createRouter({ launcher })` gives another.
 */
export interface Launcher {
  launch(
    bundle: Bundle,
    options: { logger: Logger; secrets?: Record<string, string>; hostCalls?: HostCallHandler },
  ): Promise<IsolateHandle>;
  /** Decodes a bundle when it is loaded, so that its first cold start does not (optional). */
  prepare?(bundle: Bundle): Promise<void>;
  /** Resolves once cold starts are fast (e.g. a pool is parked); the router listens after it. */
  warm?(): Promise<void>;
  /**
   * Told after `warm`, before the router listens: this many workers are about to meet their
   * first cold start (a pool may park an isolate for each, and give them back once they came).
   */
  anticipate?(workers: number): void | Promise<void>;
  /**
   * Takes back an isolate the router evicted: the launcher may keep it for the same worker's
   * next `launch` (cheaper than any restore) or close it. Without it, the router closes it.
   */
  retire?(handle: IsolateHandle): Promise<void>;
  /** Its parked pool, for the status page (optional). */
  stats?(): PoolStats;
  /** Stops anything the launcher keeps around (parked isolates). */
  close?(): Promise<void>;
}

// A restored Pyodide holds its whole wasm heap (about the snapshot's size, ~30 MiB for a bare
// interpreter) plus a V8 isolate and Pyodide's JS (~40 MiB measured with worker_threads).
const ISOLATE_OVERHEAD_BYTES = 40 * 1024 * 1024;
const MIN_HEAP_BYTES = 32 * 1024 * 1024;

/** What an isolate of `bundle` is expected to hold before it reports its own size. */
export function estimateIsolateBytes(bundle: Bundle): number {
  return Math.max(MIN_HEAP_BYTES, bundle.snapshot?.byteLength ?? 0) + ISOLATE_OVERHEAD_BYTES;
}
