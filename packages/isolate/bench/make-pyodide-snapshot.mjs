// Makes a snapshot the stock way (loadPyodide({_makeSnapshot}) + top level), for the
// `_loadSnapshot` baseline of the cold-start benchmark.

import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { loadPyodide } from 'pyodide';

// Explicit, because tsx's source maps make Pyodide's own guess (from a stack trace) wrong.
const indexURL = fileURLToPath(new URL('.', import.meta.resolve('pyodide')));

const py = await loadPyodide({ indexURL, _makeSnapshot: true });
py.runPython(workerData.code);
const bytes = py.makeMemorySnapshot();
parentPort.postMessage(bytes, [bytes.buffer]);
