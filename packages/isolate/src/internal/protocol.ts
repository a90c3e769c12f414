// Messages between an Isolate (parent side) and its worker thread.

export interface WorkerFile {
  /** Path inside the isolate's file system, relative to the worker's root. */
  path: string;
  bytes: Uint8Array;
}

export interface InitMessage {
  type: 'init';
  mode: 'snapshot' | 'serve';
  name: string;
  /** Module name of the worker's entry (e.g. `entry` for `src/entry.py`). */
  mainModule: string;
  files: WorkerFile[];
  sdkFiles: WorkerFile[];
  /** Pyodide's own snapshot bytes to restore from (serve mode). */
  snapshot?: Uint8Array;
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
}

/**
 * The worker's env (config vars and secrets), sent once after the isolate is ready and before
 * any request. It is never part of a snapshot, so secrets stay out of bundles.
 */
export interface EnvMessage {
  type: 'env';
  env: Record<string, string>;
}

export type ToWorker = InitMessage | RequestMessage | EnvMessage;

/** What the worker answered to a {@link RequestMessage}. */
export interface ResponseMessage {
  type: 'response';
  id: number;
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** A request whose handler raised (`userError`) or that the runtime failed to run. */
export interface RequestErrorMessage {
  type: 'error';
  id: number;
  /** One line, e.g. `ValueError: boom`. */
  message: string;
  /** The Python traceback, starting at the worker's handler. */
  traceback?: string;
  userError: boolean;
}

/** Levels of a `log` message; `logging` records carry theirs, stdout/stderr lines have none. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type FromWorker =
  | { type: 'ready'; bootMs: number; restored: boolean }
  | { type: 'snapshot'; bytes: Uint8Array; pythonVersion: string; importedModules: string[] }
  | {
      type: 'log';
      stream: 'stdout' | 'stderr' | 'logging';
      line: string;
      level?: LogLevel;
      /** Name of the Python logger, for `logging` records. */
      logger?: string;
    }
  | ResponseMessage
  | { type: 'error'; id?: number; message: string; traceback?: string; userError: boolean };
