// Runs inside a worker_thread: one V8 isolate with one Pyodide interpreter.
import { parentPort } from 'node:worker_threads';
import { loadPyodide, type PyodideAPI } from 'pyodide';
import type {
  EnvMessage,
  FromWorker,
  InitMessage,
  RequestMessage,
  ToWorker,
  WorkerFile,
} from '../internal/protocol.js';
import { installHost, type PyHandle, runRequest, setEnv } from './request-bridge.js';

const SDK_DIR = '/lib/pyworkers';
const WORKER_DIR = '/session/worker';

const port = parentPort;
if (!port) throw new TypeError('isolate-worker must run inside a worker_thread');
installHost();

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function writeFiles(py: PyodideAPI, root: string, files: WorkerFile[]): void {
  for (const f of files) {
    const full = `${root}/${f.path}`;
    py.FS.mkdirTree(full.slice(0, full.lastIndexOf('/')));
    py.FS.writeFile(full, f.bytes);
  }
}

interface PyProxyLike {
  toJs(opts?: object): unknown;
  destroy(): void;
}

let pyodide: PyodideAPI | undefined;
let handle: ((...args: unknown[]) => Promise<PyProxyLike>) | undefined;

async function init(msg: InitMessage): Promise<void> {
  const t0 = performance.now();
  const restored = msg.mode === 'serve' && msg.snapshot !== undefined;
  pyodide = await loadPyodide({
    ...(msg.mode === 'snapshot' ? { _makeSnapshot: true } : {}),
    ...(restored ? { _loadSnapshot: msg.snapshot } : {}),
    stdout: (line: string) => post({ type: 'log', stream: 'stdout', line }),
    stderr: (line: string) => post({ type: 'log', stream: 'stderr', line }),
  });
  // The file system is not part of a memory snapshot: put the files back after every restore.
  writeFiles(pyodide, SDK_DIR, msg.sdkFiles);
  writeFiles(pyodide, WORKER_DIR, msg.files);
  if (!restored) {
    pyodide.runPython(
      `import sys\nsys.path[:0] = [${JSON.stringify(SDK_DIR)}, ${JSON.stringify(WORKER_DIR)}]\nimport _pyworkers_runtime\n_pyworkers_runtime.load(${JSON.stringify(msg.mainModule)})`,
    );
  }
  if (msg.mode === 'snapshot') {
    const py = pyodide;
    const pythonVersion = String(py.runPython('import sys; sys.version.split()[0]'));
    const modules = py.runPython(
      'import sys, gc; gc.collect(); sorted(sys.modules)',
    ) as PyProxyLike;
    const importedModules = modules.toJs() as string[];
    modules.destroy();
    const bytes = py.makeMemorySnapshot();
    post({ type: 'snapshot', bytes, pythonVersion, importedModules }, [
      bytes.buffer as ArrayBuffer,
    ]);
    return;
  }
  handle = pyodide.pyimport('_pyworkers_runtime').handle as typeof handle;
  post({ type: 'ready', bootMs: performance.now() - t0, restored });
}

// Request-side messages: the env (once, before any request) and requests.
async function request(msg: RequestMessage | EnvMessage): Promise<void> {
  if (!pyodide || !handle) throw new Error('request before init');
  if (msg.type === 'env') {
    setEnv(pyodide, msg);
    return;
  }
  const { message, transfer } = await runRequest(pyodide, handle as PyHandle, msg);
  post(message, transfer);
}

port.on('message', (msg: ToWorker) => {
  const run = msg.type === 'init' ? init(msg) : request(msg);
  run.catch((err: unknown) => {
    const e = err as { message?: string; type?: string };
    // Python exceptions reach JS as PythonError, whose message is the formatted traceback.
    const isPython =
      (err as { constructor?: { name?: string } })?.constructor?.name === 'PythonError';
    post({
      type: 'error',
      ...(msg.type === 'request' ? { id: msg.id } : {}),
      message: String(e?.message ?? err),
      ...(isPython ? { traceback: String(e.message) } : {}),
      userError: isPython,
    });
  });
});
