// Where an isolate's files appear to Python. The same paths at build time and after a restore,
// so a snapshot's imported modules still find their files; tracebacks name them.

/** Where the Python SDK (`workers`, the ASGI/WSGI adapters) is mounted inside an isolate. */
export const SDK_DIR = '/lib/pyworkers';

/**
 * Where a worker's own files (its bundle) are mounted inside an isolate: a traceback says
 * `/session/worker/entry.py`, which a tool can map back to the user's file.
 */
export const WORKER_DIR = '/session/worker';
