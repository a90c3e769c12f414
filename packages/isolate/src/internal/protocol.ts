/// <reference path="./webassembly.d.ts" />
// Messages between an Isolate (parent side) and its worker thread.

import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '@pyworkers/common';
import type { BodyMessage } from '../body-stream.js';
import type { WorkerEvent, WorkerEventResult } from '../events.js';
import type { HostCallError } from '../host-call.js';
import type { MemoryReport } from '../limits.js';
import type { WebSocketMessage } from '../websocket.js';

export interface WorkerFile {
  /** Path inside the isolate's file system, relative to the worker's root. */
  path: string;
  bytes: Uint8Array;
}

/** Files mounted read-only: one shared buffer and where each file sits in it (no per-file copy). */
export interface MountSet {
  /** Usually a view into a SharedArrayBuffer, so isolates share one copy. */
  data: Uint8Array;
  /** [path relative to the mount point, offset into `data`, size]. */
  entries: [string, number, number][];
  /** A digest of the files, when the packer computed one (the SDK's): equal ids, equal files. */
  id?: string;
}

/** What every isolate boots with, prepared once per process by the parent. */
export interface BootAssets {
  /** The compiled `pyodide.asm.wasm`, compiled once in the parent. */
  wasmModule: WebAssembly.Module;
  /** `python_stdlib.zip`, in a SharedArrayBuffer. */
  stdlib: Uint8Array;
  lockFileContents: string;
  /** A directory with empty stand-ins for the files Pyodide would otherwise read again. */
  indexURL: string;
}

/** A heap to restore: a decoded snapshot (SharedArrayBuffer view) and what Pyodide needs with it. */
export interface HeapImage {
  heap: Uint8Array;
  jsRefs: Record<string, unknown>;
  /** Byte ranges [start, end) of the heap that hold non-zero 64 KiB pages. */
  runs: number[];
  /** The interpreter's monotonic clock (ms) when the snapshot was taken: clocks resume above it. */
  monotonicMs: number;
  /** A baseline image: its id (SHA-256 hex), which dedicated images name as their base. */
  id?: string;
  /**
   * A dedicated image made on top of baseline `id`: byte ranges [start, end) of the 64 KiB pages
   * where it differs from that baseline. A parked isolate booted from the same baseline swaps it
   * in by writing those pages and the ones its own boot dirtied, nothing else.
   */
  base?: { id: string; differ: number[] };
  /**
   * The image is `heap` (then its baseline's heap, shared, not a copy) with the byte ranges
   * `runs` [start, end, ...] replaced by `bytes` (their contents one after another). A host
   * keeps a dedicated image this way instead of a heap of its own: hello holds the 0.33 MiB of
   * 64-byte blocks where it differs from the baseline, not all of its 13.4 MiB of non-zero
   * pages (nor the 4.9 MiB of 4 KiB pages those blocks are in).
   */
  /**
   * `runs` in shared memory: a cold start's message carries it without a copy. `heapBytes`: the
   * image's length, which may exceed `heap`'s (a top level that grew the heap: the blocks past
   * the baseline's end are in the patch, the rest of them zero).
   */
  patch?: { runs: Int32Array; bytes: Uint8Array; heapBytes: number };
}

/** Limits enforced inside the worker thread. */
export interface WorkerLimits {
  /** The WebAssembly heap may not grow past this many bytes. */
  memoryBytes: number;
}

export interface InitMessage {
  type: 'init';
  /**
   * `baseline`: plain boot, snapshot the bare interpreter. `snapshot`: restore the baseline, run
   * the top level, snapshot. `serve`: restore a dedicated snapshot (or boot plain without one).
   * `park`: restore the baseline and wait for an `adopt`. `builder`: restore the baseline (as
   * `snapshot` does) and wait for a `build` with the worker's files.
   */
  mode: 'baseline' | 'snapshot' | 'serve' | 'park' | 'builder';
  name: string;
  /** Module name of the worker's entry (e.g. `entry` for `src/entry.py`). */
  mainModule: string;
  /** Durable Object classes its config names: the build fails if the module lacks one. */
  durableObjectClasses?: string[];
  files: MountSet;
  sdkFiles: MountSet;
  assets: BootAssets;
  /** Heap to restore: the baseline (snapshot, park) or the dedicated snapshot (serve). */
  image?: HeapImage;
  /** Environment variables of the interpreter (baseline: `PYTHONHASHSEED`). */
  env?: Record<string, string>;
  limits: WorkerLimits;
  /** Python run (async) before parking. Test hook: lets a test intern JS strings in a parked isolate. */
  warmup?: string;
  /**
   * `builder`: a previous build's files and the dependency modules its top level imported,
   * imported now (inside the top level's entropy count), so the next build only runs what
   * changed.
   */
  preload?: { files: MountSet; modules: string[] };
}

/** Turns a parked isolate into worker `name`: swap its heap in place, once. */
export interface AdoptMessage {
  type: 'adopt';
  name: string;
  mainModule: string;
  files: MountSet;
  sdkFiles: MountSet;
  image: HeapImage;
  /** The worker's Python heap cap: a parked isolate was booted with the launcher's default. */
  memoryBytes: number;
  /** `performance.timeOrigin + performance.now()` when the parent posted this message. */
  sentAt: number;
}

/** Runs a worker's top level in a `builder` isolate and posts its snapshot, once. */
export interface BuildMessage {
  type: 'build';
  name: string;
  mainModule: string;
  durableObjectClasses?: string[];
  files: MountSet;
  sdkFiles: MountSet;
}

/** One HTTP request; the worker thread turns it into a JS `Request` for Python. */
export interface RequestMessage {
  type: 'request';
  id: number;
  method: string;
  /** Absolute URL. */
  url: string;
  headers: [string, string][];
  /** Ignored for GET and HEAD, which cannot carry a body in a JS `Request`. */
  body: Uint8Array;
  /** The body follows as `body-chunk` messages (`body` is then empty). */
  streamed?: boolean;
}

/**
 * The worker's env (config vars and secrets), sent once after the isolate is ready and before
 * any request. It is never part of a snapshot, so secrets stay out of bundles.
 */
export interface EnvMessage {
  type: 'env';
  env: Record<string, string>;
  /** `[name, type]` of each declared binding: Python builds a proxy for each. */
  bindings?: [string, string][];
}

/** A `scheduled` or `queue` event for the worker's handler of that name. */
export interface EventMessage {
  type: 'event';
  /** Shares the request ids' namespace: the parent settles both from one pending map. */
  id: number;
  event: WorkerEvent;
}

/**
 * A binding call from Python. Ids are their own namespace (not request ids). With `sync` (an
 * Int32Array over a SharedArrayBuffer) the worker thread is blocked in `Atomics.wait`: the answer
 * goes to the port of its {@link HostPortMessage}, then `sync[0]` is set to 1 and notified.
 */
export interface HostCallMessage {
  type: 'host-call';
  id: number;
  binding: string;
  method: string;
  args: unknown[];
  sync?: Int32Array;
  /**
   * A store call (KV, D1, Durable Object storage; always with `sync`): `args` may come as JSON
   * text instead (`argsJson`, then `args` is empty), and a JSON-safe result goes back as JSON
   * text (`json`). A string crosses as one copy; a structured clone walks every property.
   */
  store?: true;
  argsJson?: string;
  /**
   * An RPC (a Durable Object stub's or a service binding's call, with `sync`): a JSON-safe
   * result whose numbers are exact in Python too goes back as JSON text (`json`), which Python
   * decodes in C instead of walking a JS object through proxies.
   */
  rpc?: true;
}

/** Sent once, before the first blocking host call: where blocking calls are answered. */
export interface HostPortMessage {
  type: 'host-port';
  port: MessagePort;
}

/** The answer to a {@link HostCallMessage}. */
export type HostResultMessage =
  | { type: 'host-result'; id: number; ok: true; value: unknown; json?: string }
  | { type: 'host-result'; id: number; ok: false; error: HostCallError };

/**
 * Opens a lane: the thread takes requests straight from the router (see "Lanes" in the API
 * section of the README), past the host's main thread, on a socket the router connects to (the
 * thread listens at {@link lanePath}, and says so to the router on the Unix socket at `path`).
 * `load[0]` is kept at the lane's requests in flight, for the host's placement.
 */
export interface LaneOpenMessage {
  type: 'lane-open';
  path: string;
  /** Said first on the socket: the router takes only a lane that knows it. */
  token: string;
  /** Names this lane in the router's `lane-kill` to the host. */
  lane: number;
  worker: string;
  /** Requests the router may run on the lane at once. */
  capacity: number;
  /** The request timeout, which the router enforces on the lane (it asks the host to kill). */
  timeoutMs: number;
  load: Int32Array;
}

/** Closes the lane (before the host evicts the isolate); answered by a `lane-state` closed. */
export interface LaneCloseMessage {
  type: 'lane-close';
}

/** The lane of this isolate: connected, or closed (every request it took answered). */
export interface LaneStateMessage {
  type: 'lane-state';
  state: 'open' | 'closed';
  /** Why it closed (or never opened), when it was not asked to. */
  message?: string;
}

/**
 * Where the thread of lane `lane` takes the router's connection: next to the router's socket
 * `path`. The router is the side that connects, so that it can read the lane into one reused
 * buffer (node:net takes `onread` only for a socket it connects).
 */
export function lanePath(path: string, lane: number): string {
  return `${path.replace(/\.sock$/, '')}-lane-${lane}.sock`;
}

/** What goes between the thread and the router to open a lane, and to close one. */
export type LaneFrame =
  /** The thread, on the router's socket: it listens at `path` (lanePath), for the router. */
  | {
      type: 'lane-hello';
      token: string;
      lane: number;
      worker: string;
      capacity: number;
      timeoutMs: number;
      path: string;
    }
  /** The router's first frame on the lane's own socket: the token it gave the thread's host. */
  | { type: 'lane-accept'; token: string }
  /** The host closes the lane: send nothing more, and answer `lane-closed`. */
  | { type: 'lane-closing' };

export type ToWorker =
  | LaneOpenMessage
  | LaneCloseMessage
  | InitMessage
  | AdoptMessage
  | BuildMessage
  | RequestMessage
  | EnvMessage
  | EventMessage
  | HostResultMessage
  | BodyMessage
  | WebSocketMessage;

/** What the worker answered to a {@link RequestMessage}. */
export interface ResponseMessage {
  type: 'response';
  id: number;
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** The head of a response whose body follows as `body-chunk` messages. */
export interface ResponseHeadMessage {
  type: 'response-head';
  id: number;
  status: number;
  headers: [string, string][];
}

/** The worker accepted a WebSocket upgrade: the session follows as `ws-*` messages. */
export interface WebSocketAcceptMessage {
  type: 'ws-accept';
  id: number;
  headers: [string, string][];
  /**
   * The WebSocket is a Durable Object's (hibernation API), held by the host where the object
   * lives: this ref names it there, and no `ws-*` session follows on this hop.
   */
  attach?: string;
}

/** What the worker's handler made of an {@link EventMessage}. */
export interface EventResultMessage {
  type: 'event-result';
  id: number;
  result: WorkerEventResult;
  /** The Python traceback when the handler raised (`result.outcome === 'exception'`). */
  traceback?: string;
  /**
   * The result's value is a tagged Response (an object's or entrypoint's fetch) whose body
   * follows as `body-chunk` messages of this id (its `body` is null here).
   */
  streamed?: true;
}

/**
 * A request or event whose handler raised, or a boot the thread failed (no `id`). The error is
 * data (toErrorData), so an IsolateError raised in the thread keeps its code, hint and where.
 */
export interface ErrorMessage {
  type: 'error';
  id?: number;
  /** `message` is one line, e.g. `ValueError: boom`. */
  error: ErrorData;
  /** The Python traceback, starting at the worker's handler. */
  traceback?: string;
}

/** Levels of a `log` message; `logging` records carry theirs, stdout/stderr lines have none. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | {
      type: 'ready';
      bootMs: number;
      restored: boolean;
      swapped: boolean;
      memory: MemoryReport;
      /** Milliseconds per boot phase, measured inside the worker. */
      phases: Record<string, number>;
    }
  | { type: 'parked'; bootMs: number; preloaded?: boolean }
  | {
      type: 'snapshot';
      bytes: Uint8Array;
      pythonVersion: string;
      importedModules: string[];
      monotonicMs: number;
      /** Bytes of OS entropy the top level drew (frozen into the snapshot). */
      entropyBytes: number;
    }
  | { type: 'swap-refused'; reason: 'conflict' | 'busy'; message: string }
  | { type: 'build-error'; code: 'ERR_ISOLATE_UNRESTORABLE'; message: string }
  | { type: 'limit'; id?: number; limit: 'memory'; message: string }
  | {
      type: 'log';
      stream: 'stdout' | 'stderr' | 'logging' | 'console';
      line: string;
      level?: LogLevel;
      /** Name of the Python logger, for `logging` records. */
      logger?: string;
    }
  | ResponseMessage
  | ResponseHeadMessage
  | BodyMessage
  | WebSocketAcceptMessage
  | WebSocketMessage
  | EventResultMessage
  | HostCallMessage
  | HostPortMessage
  | ErrorMessage
  | LaneStateMessage
  | { type: 'memory'; memory: MemoryReport };

export type { MemoryReport };
