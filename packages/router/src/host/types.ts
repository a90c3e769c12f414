import type {
  Bundle,
  IsolateRequest,
  IsolateStreamingResponse,
  WebSocketPeer,
  WorkerEvent,
  WorkerEventResult,
} from '@pyworkers/isolate';
import type { WorkerState } from '../bindings/wiring.js';
import type { ObjectEventInput, ObjectTarget } from '../objects/object-host.js';

/** A worker as a host sees it: its name and where to get its bundle. */
export interface HostWorker {
  name: string;
  bundle: () => Promise<Bundle>;
  /** Secrets for `self.env`, handed to each isolate at start (never part of the bundle). */
  secrets?: Record<string, string>;
  /** Where the worker's bindings keep their state on this machine (host config, not bundled). */
  state?: WorkerState;
}

/** What a host answers for one request. */
export type HostResult =
  | { kind: 'response'; response: IsolateStreamingResponse; coldStart: boolean }
  /** The host is overloaded and did not run the request: try the next host. */
  | { kind: 'refused'; reason: 'inflight' | 'memory' };

/** What a host answers for one `scheduled` or `queue` event. */
export type HostEventResult =
  | { kind: 'event'; result: WorkerEventResult; coldStart: boolean }
  | { kind: 'refused'; reason: 'inflight' | 'memory' };

/** One worker's isolates on a host, for metrics and the status page. */
export interface HostWorkerStats {
  worker: string;
  isolates: number;
  bytes: number;
  inflight: number;
}

/** A host's state, for metrics and the status page. */
export interface HostStats {
  id: number;
  kind: 'local' | 'process';
  pid: number;
  inflight: number;
  usedBytes: number;
  budgetBytes: number;
  workers: HostWorkerStats[];
  /** The host did not answer in time: these are its last answer. */
  stale?: boolean;
  /** Response bodies of service fetches this host process answered, open now. */
  serviceStreams?: number;
  /** Lanes open to this host's isolates (./lanes.ts), and requests sent on them so far. */
  lanes?: number;
  laneRequests?: number;
  /** Its launcher's parked pool, when the launcher reports one (`Launcher.stats`). */
  pool?: PoolStats;
}

/** A launcher's parked pool: isolates parked and booting, and how its cold starts went. */
export interface PoolStats {
  parked: number;
  booting: number;
  /** What the pool refills to now (grown by misses, or by first cold starts expected). */
  poolTarget: number;
  /** Cold starts that swapped into a parked isolate. */
  swaps: number;
  /** Cold starts that booted an isolate of their own. */
  freshStarts: number;
  /** Cold starts that found no parked isolate ready. */
  misses: number;
}

/** What hosts report as it happens (to metrics). */
export interface HostEvents {
  /** An isolate of `worker` is starting on `host`. */
  coldStart(worker: string, host: number): void;
  /** An idle isolate of `worker` on `host` was stopped to stay within the memory budget. */
  eviction(worker: string, host: number): void;
  /** An isolate of `worker` on `host` crashed or failed to start. */
  lost(worker: string, host: number): void;
  /** A host (process) died and was replaced; its isolates are gone. */
  hostReplaced?(host: number): void;
  /** A Durable Object's alarm was set, moved or cleared (null) on `host`. */
  alarm?(worker: string, className: string, id: string, scheduledTime: number | null): void;
}

/** Options of one request to a host. */
export interface HostFetchOptions {
  /** Run it even if overloaded: every other host refused already. */
  force: boolean;
}

/**
 * Where isolates live: an in-process pool or a child process. Hosts decide for themselves
 * whether they are overloaded (optimistic: the router sends, a host may refuse).
 */
export interface IsolateHost {
  readonly id: number;
  fetch(
    worker: HostWorker,
    request: IsolateRequest,
    options: HostFetchOptions,
  ): Promise<HostResult>;
  /** Runs a `scheduled` or `queue` event on one of the worker's isolates (placed like a request). */
  dispatch(
    worker: HostWorker,
    event: WorkerEvent,
    options: HostFetchOptions,
  ): Promise<HostEventResult>;
  /**
   * Runs one event of a Durable Object on the isolate it is pinned to on this host (the router
   * sends every event of one id to one host). Never refused: the object lives here.
   */
  dispatchObject(
    worker: HostWorker,
    target: ObjectTarget,
    input: ObjectEventInput,
  ): Promise<HostEventResult>;
  /**
   * The client end of a Durable Object's hibernatable WebSocket this host holds (`ref`, from
   * the 101 answer its `stub.fetch` gave): the router relays the real client to it.
   */
  attachSocket(ref: string): Promise<WebSocketPeer>;
  /** Loads and decodes the worker's bundle now, so its first cold start here does not. */
  prepare(worker: HostWorker): Promise<void>;
  /**
   * Resolves once this host's cold starts are fast (its launcher's parked isolates booted);
   * `firstStarts` workers are expected to meet their first cold start here soon (the launcher
   * may park an isolate for each first).
   */
  ready(firstStarts: number): Promise<void>;
  stats(): Promise<HostStats>;
  close(): Promise<void>;
}
