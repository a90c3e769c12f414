/// <reference path="../internal/webassembly.d.ts" />
// The Pyodide release every `pyodide-*.ts` file of this folder was written against, and the slice
// of its private internals they use: the Emscripten module object, hiwire's JS reference tables,
// `API.restoreSnapshot`/`finalizeBootstrap`, the PyProxy finalization registry. Any other version
// is refused at import time, loudly, because these internals change between releases without
// notice. Those files are the only users of Pyodide internals; each imports this one first.
import { type PyodideAPI, version as pyodideVersion } from 'pyodide';
import { IsolateError } from '../errors.js';

/** The Pyodide release these internals were written for. */
export const INTERNALS_PYODIDE_VERSION = '314.0.7';

if (pyodideVersion !== INTERNALS_PYODIDE_VERSION) {
  throw new IsolateError(
    'ERR_ISOLATE_PYODIDE_VERSION',
    `src/worker/pyodide-*.ts were written for Pyodide ${INTERNALS_PYODIDE_VERSION} but ` +
      `Pyodide ${pyodideVersion} is installed; review every internal they use before bumping the pin`,
  );
}

/** hiwire's immortal slot of the `js_no_value` marker; interned strings follow it. */
export const IMMORTAL_NO_VALUE = 6;
/** hiwire's immortal slot of its JS-object -> reference dedup Map. */
export const IMMORTAL_DEDUP_MAP = 1;

/** The slice of Pyodide's private API used by the runtime. */
export interface PrivateApi {
  config: { jsglobals: object };
  public_api: PyodideAPI & Record<string, unknown>;
  _pyodide: { _base: PyCallable & Record<string, unknown> } & Record<string, unknown>;
  getExpectedKeys(): unknown[];
  abortSignalAny: unknown;
  restoreSnapshot(bytes: Uint8Array): Record<string, unknown>;
  finalizeBootstrap(cfg: unknown, deserializer?: unknown): PyodideAPI;
  isPyProxy(v: unknown): boolean;
  fatal_error(e: unknown): never;
  [key: string]: unknown;
}
export type PyCallable = ((...args: unknown[]) => unknown) & Record<string, unknown>;
/** What Pyodide's finalization registry holds for one PyProxy. */
export interface FinalizerHeld {
  ptr: number;
  cache?: { leaked: boolean; refcnt: number };
  gen?: number;
}
/** The slice of the Emscripten module used by the runtime. */
export interface EmModule {
  HEAPU8: Uint8Array;
  API: PrivateApi;
  FS: EmFS;
  ___stack_pointer: WebAssembly.Global;
  growMemory(bytes: number): number | undefined;
  finalizationRegistry: {
    register(obj: object, held: FinalizerHeld, token?: object): void;
    unregister(token: object): boolean;
  };
  _Py_DecRef(ptr: number): void;
  _init_pyodide_proxy(): void;
  __hiwire_get(i: number): unknown;
  __hiwire_set(i: number, v: unknown): number;
  __hiwire_immortal_get(i: number): unknown;
  __hiwire_immortal_add(v: unknown): void;
}
/** The part of Emscripten's FS the runtime touches (also used by the read-only bundle FS). */
export interface EmFS {
  streams: ({ fd: number } | null | undefined)[];
  closeStream(fd: number): void;
  [key: string]: unknown;
}
