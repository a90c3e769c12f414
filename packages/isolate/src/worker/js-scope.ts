// What Python's `js` module is: a curated global scope with the web-standard APIs a Cloudflare
// worker has, and nothing of Node (no process, require, Buffer, file system, child processes).
// Pyodide resolves a snapshot's JS references by paths from this object, so every isolate must
// build it with the same keys (baseline, dedicated snapshots and restores all use it).
import { format } from 'node:util';
import { parentPort } from 'node:worker_threads';
import type { LogLevel } from '../internal/protocol.js';

/** JavaScript's own globals (ECMAScript), minus the code generators `eval` and `Function`. */
const LANGUAGE = [
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'Atomics',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'FinalizationRegistry',
  'Float32Array',
  'Float64Array',
  'Infinity',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'Intl',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'Symbol',
  'SyntaxError',
  'TypeError',
  'URIError',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'WeakMap',
  'WeakRef',
  'WeakSet',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'unescape',
] as const;

/**
 * The web platform as a Cloudflare worker sees it. Left out on purpose: `BroadcastChannel` and
 * `MessageChannel` (Node's cross every thread of the process, so one isolate could talk to
 * another), `WebAssembly` (workers cannot compile code at run time), `SharedArrayBuffer`.
 */
const WEB = [
  'AbortController',
  'AbortSignal',
  'Blob',
  'ByteLengthQueuingStrategy',
  'CompressionStream',
  'CountQueuingStrategy',
  'Crypto',
  'CryptoKey',
  'CustomEvent',
  'DOMException',
  'DecompressionStream',
  'Event',
  'EventTarget',
  'File',
  'FormData',
  'Headers',
  'ReadableByteStreamController',
  'ReadableStream',
  'ReadableStreamBYOBReader',
  'ReadableStreamBYOBRequest',
  'ReadableStreamDefaultController',
  'ReadableStreamDefaultReader',
  'Request',
  'Response',
  'SubtleCrypto',
  'TextDecoder',
  'TextDecoderStream',
  'TextEncoder',
  'TextEncoderStream',
  'TransformStream',
  'TransformStreamDefaultController',
  'URL',
  'URLSearchParams',
  'WebSocket',
  // Cloudflare's WebSocketPair (set by request-bridge's installHost): the JS-style WebSocket API.
  'WebSocketPair',
  'WebSocketRequestResponsePair',
  'WritableStream',
  'WritableStreamDefaultController',
  'WritableStreamDefaultWriter',
  'atob',
  'btoa',
  'crypto',
  'fetch',
  'queueMicrotask',
  'structuredClone',
] as const;

type Timer = (...args: unknown[]) => unknown;

/**
 * Timers answer with a number, as in browsers and on Cloudflare: Node's `Timeout` objects link
 * to every other timer of the thread (`_idlePrev`/`_idleNext`), the host's included. The real
 * global's functions are looked up on each call because the swap guards wrap them after boot.
 */
function timers(): Record<string, Timer> {
  const g = globalThis as unknown as Record<string, Timer>;
  const set = (name: string) =>
    function (this: unknown, ...args: unknown[]): number {
      return Number(g[name]!(...args));
    };
  const clear = (name: string) =>
    function (this: unknown, id: unknown): void {
      if (typeof id === 'number') g[name]!(id);
    };
  return {
    setTimeout: set('setTimeout'),
    setInterval: set('setInterval'),
    clearTimeout: clear('clearTimeout'),
    clearInterval: clear('clearInterval'),
  };
}

/** `console.*` from Python goes to the operator's log with the worker's name, like `print`. */
function workerConsole(): Record<string, (...args: unknown[]) => void> {
  const port = parentPort;
  const at =
    (level: LogLevel) =>
    (...args: unknown[]): void => {
      port?.postMessage({ type: 'log', stream: 'console', level, line: format(...args) });
    };
  return {
    log: at('info'),
    info: at('info'),
    debug: at('debug'),
    trace: at('debug'),
    warn: at('warn'),
    error: at('error'),
  };
}

/**
 * Builds the object Python's `js` module is (`loadPyodide({ jsglobals })`). `pyworkersHost` is
 * read from the real global on each access: it is the one way from Python to the host, and the
 * host checks every call made through it.
 */
export function jsScope(): Record<string, unknown> {
  const real = globalThis as unknown as Record<string, unknown>;
  const scope: Record<string, unknown> = {};
  for (const name of [...LANGUAGE, ...WEB]) {
    if (name in real) scope[name] = real[name];
  }
  Object.assign(scope, timers());
  scope.console = workerConsole();
  const perf = performance;
  scope.performance = { now: () => perf.now(), timeOrigin: perf.timeOrigin };
  scope.self = scope;
  scope.globalThis = scope;
  Object.defineProperty(scope, 'pyworkersHost', {
    enumerable: true,
    get: () => real.pyworkersHost,
  });
  return scope;
}

/** Throws for every attempt to turn a string into code through a function's constructor. */
function refuseCodeFromStrings(): never {
  throw new EvalError('code generation from strings is not available in a pyworkers isolate');
}

/**
 * Locks the worker thread's realm against what no curated scope can stop on its own: any JS
 * function Python holds leads to the `Function` constructor (`f.constructor`), which compiles a
 * string in the real global scope. Each function kind's prototype gets a constructor that
 * throws instead. Node's internals keep working: they use primordials captured at startup.
 */
export function lockRealm(): void {
  const kinds = [
    Function,
    Object.getPrototypeOf(async () => {}).constructor,
    Object.getPrototypeOf(function* () {}).constructor,
    Object.getPrototypeOf(async function* () {}).constructor,
  ] as { prototype: object }[];
  for (const kind of kinds) {
    Object.defineProperty(kind.prototype, 'constructor', {
      value: refuseCodeFromStrings,
      writable: false,
      configurable: false,
      enumerable: false,
    });
  }
  // A handler Python installs here would see every stack trace of the thread, the host's too.
  Object.defineProperty(Error, 'prepareStackTrace', {
    value: undefined,
    writable: false,
    configurable: false,
  });
}

/**
 * Emscripten's Node library implements some imports with Node itself: `system()` runs a shell
 * (`child_process.spawnSync`), `emscripten_run_script*` evaluates a string in the module scope
 * (where `process` and `require` live), `umask` changes the whole host process's umask. Python
 * reaches them through `os.system`, `os.umask` or ctypes; these replace them before the module
 * is instantiated.
 */
export function refuseHostImports(ns: Record<string, unknown>): void {
  const refuse = (name: string, result: (...args: unknown[]) => unknown) => {
    if (typeof ns[name] !== 'function') return;
    ns[name] = Object.assign(result, ns[name]);
  };
  // A throw here would unwind through C frames and kill the interpreter: answer as libc does
  // when it cannot: system(NULL) = 0 (no shell), system(cmd) = -1; scripts do nothing.
  refuse('_emscripten_system', (cmd) => (cmd ? -1 : 0));
  for (const name of [
    'emscripten_run_script',
    'emscripten_run_script_int',
    'emscripten_run_script_string',
    'emscripten_async_run_script',
    'emscripten_async_load_script',
  ]) {
    refuse(name, () => 0);
  }
  refuse('__syscall_umask_js', () => 0o022);
  refuse('__syscall_getuid32_js', () => 0);
}
