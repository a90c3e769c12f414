// Baselines for the cold-start benchmark: stock Pyodide in a fresh worker_thread.
// workerData: { mode: 'plain' | 'snapshot', code, snapshot? }

import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { loadPyodide } from 'pyodide';

// Explicit, because tsx's source maps make Pyodide's own guess (from a stack trace) wrong.
const indexURL = fileURLToPath(new URL('.', import.meta.resolve('pyodide')));

const { mode, code, snapshot } = workerData;
const py =
  mode === 'plain'
    ? await loadPyodide({ indexURL })
    : await loadPyodide({ indexURL, _loadSnapshot: snapshot });
if (mode === 'plain') py.runPython(code);
const handler = py.globals.get('handler');
const result = handler();
handler.destroy();
parentPort.postMessage(result);
