// Runs inside a worker_thread: one V8 isolate with one Pyodide interpreter.
import { parentPort } from 'node:worker_threads';
import type { PyodideAPI } from 'pyodide';
import type { FromWorker, InitMessage, RequestMessage, ToWorker } from '../internal/protocol.js';
import { adopt, type Booted, boot } from './boot.js';
import { memoryLimitHit, memoryReport } from './pyodide-internals.js';

const port = parentPort;
if (!port) throw new TypeError('isolate-worker must run inside a worker_thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

interface PyProxyLike {
  toJs(opts?: object): unknown;
  destroy(): void;
}

let booted: Booted | undefined;
let pyodide: PyodideAPI | undefined;
let handle: ((...args: unknown[]) => Promise<PyProxyLike>) | undefined;

function serving(b: Booted | undefined): void {
  booted = b;
  pyodide = b?.pyodide;
  handle = undefined;
}

async function init(msg: InitMessage): Promise<void> {
  serving(await boot(msg, post));
  if (pyodide && msg.mode === 'serve') {
    handle = pyodide.pyimport('_pyworkers_runtime').handle as typeof handle;
  }
}

function afterRequest(): void {
  if (!booted) return;
  if (memoryLimitHit(booted.runtime)) {
    post({
      type: 'limit',
      limit: 'memory',
      message: `the Python heap tried to grow past ${booted.runtime.memory.limitBytes} bytes`,
    });
  }
  post({ type: 'memory', memory: memoryReport(booted.runtime) });
}

async function request(msg: RequestMessage): Promise<void> {
  if (!pyodide || !handle) throw new Error('request before init');
  const env = pyodide.toPy(msg.env);
  try {
    const result = await handle(msg.method, msg.url, msg.headers, msg.body, env);
    const [status, headers, body] = result.toJs({ create_pyproxies: false }) as [
      number,
      [string, string][],
      Uint8Array,
    ];
    result.destroy();
    post({ type: 'response', id: msg.id, status, headers, body }, [body.buffer as ArrayBuffer]);
  } finally {
    (env as PyProxyLike).destroy();
  }
}

port.on('message', (msg: ToWorker) => {
  let run: Promise<void>;
  if (msg.type === 'init') run = init(msg);
  else if (msg.type === 'adopt') {
    run = (async () => {
      if (!booted) throw new Error('adopt before the isolate was parked');
      const next = adopt(booted, msg, post);
      if (next) {
        serving(next);
        handle = next.pyodide.pyimport('_pyworkers_runtime').handle as typeof handle;
      }
    })();
  } else run = request(msg).finally(afterRequest);
  run.catch((err: unknown) => {
    const e = err as { message?: string; type?: string; userError?: boolean };
    // Python exceptions reach JS as PythonError, whose message is the formatted traceback.
    const isPython =
      (err as { constructor?: { name?: string } })?.constructor?.name === 'PythonError';
    post({
      type: 'error',
      ...(msg.type === 'request' ? { id: msg.id } : {}),
      message: String(e?.message ?? err),
      ...(isPython ? { traceback: String(e.message) } : {}),
      userError: isPython || e?.userError === true,
    });
  });
});
