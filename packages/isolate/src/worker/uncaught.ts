// An exception that a Python callback raised outside any request or event (a `setTimeout`
// callback, a WebSocket's or an EventTarget's listener) reaches the thread
// as an uncaught exception. It is the worker's bug, not the runtime's: it goes to the worker's
// log with its traceback and the isolate goes on serving, as a runtime reports an uncaught
// exception. Before, it ended the thread, and with it every request the isolate was running.
// Anything else (an interpreter that failed fatally, an error of the runtime itself) still
// ends the thread, as before.
import type { FromWorker } from '../internal/protocol.js';

type Post = (msg: FromWorker) => void;

/** Installs the handler; once per isolate thread. */
export function reportCallbackErrors(post: Post): void {
  process.on('uncaughtException', (err: unknown) => {
    const e = err as { constructor?: { name?: string }; pyodide_fatal_error?: unknown } | null;
    if (e?.constructor?.name !== 'PythonError' || e.pyodide_fatal_error) throw err;
    const traceback = String((err as Error).message).trimEnd();
    post({
      type: 'log',
      stream: 'stderr',
      level: 'error',
      line: `Uncaught exception in a callback (the worker goes on serving):\n${traceback}`,
    });
  });
}
