// Messages between a ChildHost (router side) and its host process. IPC uses Node's
// 'advanced' serialization (structured clone), so bundles travel as Uint8Arrays. Streamed
// bodies travel on a socket of their own (./body-channel.ts).
import type { ErrorData } from '@pyworkers/common';
import type {
  Bundle,
  HostCallError,
  IsolateRequest,
  WebSocketMessage,
  WorkerEvent,
} from '@pyworkers/isolate';
import type { WorkerState } from '../bindings/wiring.js';
import type { EvictionPolicyName } from '../eviction.js';
import type { ObjectEventInput, ObjectTarget } from '../objects/object-host.js';
import type { ForwardedCall } from '../services/types.js';
import type { HostEventResult, HostResult, HostStats } from './types.js';

export interface HostProcessConfig {
  id: number;
  budgetBytes: number;
  maxIsolates?: number;
  concurrency: number;
  spreadAt?: number;
  spreadTo?: number;
  maxInflight: number;
  eviction: EvictionPolicyName;
  /** Parked isolates of the host's launcher (default 1). */
  poolSize?: number;
  /** How far a burst of cold starts may grow that pool (default `poolSize`). */
  maxPoolSize?: number;
  /** Host processes of the router: a Durable Object whose id hashes to this one runs here. */
  hosts?: number;
  /** Idle time after which a Durable Object is evicted (default 60 s). */
  objectIdleMs?: number;
  /** How long a service fetch's response body may go unread (`PYWORKERS_SERVICE_STREAM_IDLE_MS`). */
  serviceStreamIdleMs?: number;
  /**
   * Socket paths of every host process by id (./peer-channel.ts): a call to a Durable Object
   * on another host goes straight there. None: through the router.
   */
  peers?: string[];
  /** The fd of the body channel (./body-channel.ts); set by the ChildHost. */
  bodyFd?: number;
  /** Where the isolates' lanes connect (./lanes.ts), and the token they say first. */
  lanes?: { path: string; token: string };
  /** Run the process under bubblewrap (src/host/sandbox.ts); extra writable paths. */
  sandbox?: { bwrap: string; writable: string[]; readable?: string[]; seccomp?: boolean };
}

export type ToHost =
  | { type: 'init'; config: HostProcessConfig }
  | {
      type: 'bundle';
      worker: string;
      bundle: Bundle;
      secrets?: Record<string, string>;
      state?: WorkerState;
    }
  | {
      type: 'fetch';
      id: number;
      worker: string;
      /** `body` is a Uint8Array here; with `streamed` it is empty and follows on the body channel. */
      request: IsolateRequest;
      force: boolean;
      streamed?: boolean;
    }
  | { type: 'dispatch'; id: number; worker: string; event: WorkerEvent; force: boolean }
  /** One event of a Durable Object placed on this host (answered by `result`). */
  | { type: 'object'; id: number; worker: string; target: ObjectTarget; input: ObjectEventInput }
  | { type: 'stats'; id: number }
  /** A request on lane `lane` ran past its timeout: kill that isolate. */
  | { type: 'lane-kill'; lane: number; message: string }
  /** Attaches session `id` to a Durable Object's hibernatable socket `ref` (answered `attached`). */
  | { type: 'ws-attach'; id: number; ref: string }
  /**
   * Answered with `warm` once every bundle sent so far is prepared and the pool is parked, with
   * an isolate for each of `firstStarts` workers expected to cold-start here (within its max).
   */
  | { type: 'warm'; id: number; firstStarts?: number }
  /** The answer to a `forward` (ids: the host process's own namespace). */
  | { type: 'forward-result'; id: number; ok: true; value: unknown }
  | { type: 'forward-result'; id: number; ok: false; error: HostCallError }
  | WebSocketMessage;

export type FromHost =
  /**
   * With `streamed`: an RPC answer whose tagged Response's body (null here) follows on the
   * body channel (an object's or entrypoint's fetch).
   */
  | { type: 'result'; id: number; result: HostResult | HostEventResult; streamed?: true }
  /** A response whose body follows on the body channel. */
  | {
      type: 'response-head';
      id: number;
      status: number;
      headers: [string, string][];
      coldStart: boolean;
    }
  /** The worker accepted a WebSocket: the session follows as `ws-*` messages. */
  | {
      type: 'ws-accept';
      id: number;
      headers: [string, string][];
      coldStart: boolean;
      /** A Durable Object's socket (its ref): no session follows; the router attaches it. */
      attach?: string;
    }
  /** The session of a `ws-attach` is relayed to the object's socket now. */
  | { type: 'attached'; id: number }
  | WebSocketMessage
  | { type: 'failed'; id: number; error: ErrorData }
  | { type: 'stats'; id: number; stats: HostStats }
  /** The isolate of lane `lane` was lost: the requests on it fail with `error`. */
  | { type: 'lane-lost'; lane: number; error: ErrorData }
  | { type: 'warm'; id: number }
  | { type: 'event'; event: 'coldStart' | 'eviction' | 'lost'; worker: string }
  /** A Durable Object's alarm changed (the router's alarm schedule keeps the times). */
  | {
      type: 'alarm';
      worker: string;
      className: string;
      id: string;
      scheduledTime: number | null;
    }
  /** An isolate's call on a service binding, for the router to deliver. */
  | { type: 'forward'; id: number; call: ForwardedCall }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      obj: Record<string, unknown>;
      msg?: string;
    };
