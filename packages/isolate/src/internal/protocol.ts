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

export interface RequestMessage {
  type: 'request';
  id: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
  env: Record<string, string>;
}

export type ToWorker = InitMessage | RequestMessage;

export type FromWorker =
  | { type: 'ready'; bootMs: number; restored: boolean }
  | { type: 'snapshot'; bytes: Uint8Array; pythonVersion: string; importedModules: string[] }
  | { type: 'log'; stream: 'stdout' | 'stderr'; line: string }
  | {
      type: 'response';
      id: number;
      status: number;
      headers: [string, string][];
      body: Uint8Array;
    }
  | { type: 'error'; id?: number; message: string; traceback?: string; userError: boolean };
