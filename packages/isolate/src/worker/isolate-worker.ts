// Runs inside a worker_thread: one V8 isolate with one Pyodide interpreter.
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '@pyworkers/common';
import type { PyodideAPI } from 'pyodide';
import { BodyStreams, isBodyMessage, STREAM_WINDOW_BYTES } from '../body-stream.js';
import { bodyBufferPool, responseBufferPool } from '../buffer-pool.js';
import { IsolateError } from '../errors.js';
import type {
  EnvMessage,
  EventMessage,
  FromWorker,
  InitMessage,
  RequestMessage,
  ToWorker,
} from '../internal/protocol.js';
import { isWebSocketMessage, WebSockets } from '../websocket.js';
import { adopt, type Booted, boot, buildSnapshot } from './boot.js';
import { type PyDispatch, runEvent } from './event-bridge.js';
import { onHostResult } from './host-channel.js';
import { lockRealm } from './js-scope.js';
import { type Channel, Lane } from './lane.js';
import { memoryLimitHit, memoryReport } from './pyodide-runtime.js';
import {
  installHost,
  type PyHandle,
  runRequest,
  setEnv,
  toReadableStream,
} from './request-bridge.js';
import { reportCallbackErrors } from './uncaught.js';
import { connectClient } from './websocket-pair.js';

const port = parentPort;
if (!port) throw new TypeError('isolate-worker must run inside a worker_thread');

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

// Request bodies arriving from the host and response bodies going to it, by request id.
// Response chunks are filled into this thread's pooled buffers (python-chunks.ts); the host
// gives them back once written.
const bodies = new BodyStreams(post, true, STREAM_WINDOW_BYTES, [
  responseBufferPool,
  bodyBufferPool,
]);
installHost({ recycle: (chunk) => bodies.recycle(chunk) });
/** Requests from the host, answered to it. */
const parent: Channel = { post, bodies };
/** Requests straight from the router (see lane.ts), once the host opened a lane. */
let lane: Lane | undefined;
reportCallbackErrors(post);
lockRealm();
// Accepted WebSockets, by request id.
const sockets = new WebSockets(post);

let booted: Booted | undefined;
let pyodide: PyodideAPI | undefined;
let handle: PyHandle | undefined;
let dispatch: PyDispatch | undefined;

/** Starts serving `b` (a restored or swapped interpreter), or nothing (build modes). */
function serve(b: Booted | undefined): void {
  booted = b;
  pyodide = b?.pyodide;
  const runtime = pyodide?.pyimport('_pyworkers_runtime') as
    | { handle_eager: PyHandle; dispatch_eager: PyDispatch }
    | undefined;
  handle = runtime?.handle_eager;
  dispatch = runtime?.dispatch_eager;
}

async function init(msg: InitMessage): Promise<void> {
  const b = await boot(msg, post);
  if (msg.mode === 'serve') serve(b);
  else booted = b; // parked: serves after `adopt`
}

let limitReported = false;

/** Reports (once) a heap that hit its limit; the host terminates the isolate. */
function reportLimits(): void {
  if (!booted || limitReported || !memoryLimitHit(booted.runtime)) return;
  limitReported = true;
  post({
    type: 'limit',
    limit: 'memory',
    message: `the Python heap tried to grow past ${booted.runtime.memory.limitBytes} bytes`,
  });
}

/** The heap may grow or shrink by this much before a report goes out at once. */
const MEMORY_STEP_BYTES = 1024 * 1024;
/** Otherwise the memory is reported at most this often. */
const MEMORY_REPORT_MS = 1_000;
let reported = { wasmBytes: 0, at: 0 };

/**
 * After each request: limits, then the memory the isolate holds now: at once when the Python
 * heap grew by a step (the host's budget must see it), else at most once a second (a message
 * and V8's heap statistics per request cost a hello request ~5% of its time).
 */
function afterRequest(): void {
  if (!booted) return;
  reportLimits();
  const wasmBytes = booted.runtime.module.HEAPU8.length;
  const now = performance.now();
  if (
    Math.abs(wasmBytes - reported.wasmBytes) < MEMORY_STEP_BYTES &&
    now - reported.at < MEMORY_REPORT_MS
  )
    return;
  reported = { wasmBytes, at: now };
  post({ type: 'memory', memory: memoryReport(booted.runtime) });
}

/** Whether this interpreter was swapped into a parked isolate (whose boot warmed the SDK). */
let swapped = false;

// Request-side messages: the env (once, before any request) and requests.
async function request(msg: RequestMessage | EnvMessage, ch = parent): Promise<void> {
  if (!pyodide || !handle) throw new Error('request before init');
  if (msg.type === 'env') {
    await setEnv(pyodide, msg, !swapped);
    return;
  }
  const requestBody = msg.streamed ? toReadableStream(ch.bodies.receive(msg.id, true)) : undefined;
  try {
    const { message, transfer, stream, webSocket } = await runRequest(
      pyodide,
      handle,
      msg,
      requestBody,
    );
    // Before the answer, so the request fails with the limit's error. On a lane it is told
    // there first: the host terminates this thread once it hears of the limit.
    const limit = booted && memoryLimitHit(booted.runtime);
    if (ch.lane !== undefined && limit) {
      const message = `the Python heap tried to grow past ${booted!.runtime.memory.limitBytes} bytes`;
      const error = new IsolateError(
        'ERR_ISOLATE_MEMORY_LIMIT',
        `${ch.lane}: ${message}; the isolate was terminated`,
      );
      ch.post(failure(error, msg.id));
      reportLimits();
      return;
    }
    reportLimits();
    if (ch.lane !== undefined && webSocket)
      throw new TypeError(
        'a WebSocket upgrade came on a lane (the router sends those to the host)',
      );
    // A lane's socket copies what it sends: nothing to transfer.
    ch.post(message, ch.lane === undefined ? transfer : []);
    if (stream) await ch.bodies.send(msg.id, stream);
    if (webSocket) await connectClient(webSocket, sockets.peer(msg.id));
  } finally {
    // A handler may stream its request body into its response: stop it only at the end.
    if (requestBody) ch.bodies.discard(msg.id);
  }
}

/** The interpreter exited (os._exit) or failed fatally: this thread is done. */
function exitIfFatal(err: unknown): void {
  // The host sees it exit, answers the request 502 and starts another isolate.
  const fatal = err as { name?: unknown; status?: unknown; pyodide_fatal_error?: unknown };
  if (fatal?.name === 'Exit' || fatal?.name === 'ExitStatus' || fatal?.pyodide_fatal_error) {
    process.exit(Number(fatal.status) || 1);
  }
}

/** The error message for a request, event or boot (no `id`) that failed with `err`. */
function failure(err: unknown, id: number | undefined): FromWorker {
  const ids = id === undefined ? {} : { id };
  // Python exceptions reach JS as PythonError, whose message is the formatted traceback: the
  // worker's own code raised (at its top level), so it is the user's to fix.
  if ((err as { constructor?: { name?: string } })?.constructor?.name === 'PythonError') {
    const traceback = String((err as Error).message).trimEnd();
    const line = traceback.slice(traceback.lastIndexOf('\n') + 1);
    const error = { name: 'PythonError', message: line, pyworkers: false, userError: true };
    return { type: 'error', ...ids, error, traceback };
  }
  return { type: 'error', ...ids, error: toErrorData(err) };
}

/** A request that came on the lane: answered there, errors included. */
function laneRequest(msg: RequestMessage, ch: Channel): Promise<void> {
  return request(msg, ch)
    .catch((err: unknown) => {
      exitIfFatal(err);
      ch.post(failure(err, msg.id));
    })
    .finally(afterRequest);
}

// A scheduled or queue event: answered like a request (limits first, then the result).
async function event(msg: EventMessage): Promise<void> {
  if (!pyodide || !dispatch) throw new Error('event before init');
  const { message, stream } = await runEvent(pyodide, dispatch, msg);
  reportLimits();
  post(message);
  if (stream) await bodies.send(msg.id, stream);
}

port.on('message', (msg: ToWorker) => {
  if (isBodyMessage(msg)) {
    bodies.onMessage(msg);
    return;
  }
  if (isWebSocketMessage(msg)) {
    sockets.onMessage(msg);
    return;
  }
  if (msg.type === 'host-result') {
    onHostResult(msg);
    return;
  }
  if (msg.type === 'lane-open') {
    lane ??= new Lane(msg, laneRequest, (state) => {
      if (state.state === 'closed') lane = undefined;
      post(state);
    });
    return;
  }
  if (msg.type === 'lane-close') {
    if (lane) lane.close();
    else post({ type: 'lane-state', state: 'closed' });
    return;
  }
  let run: Promise<void>;
  if (msg.type === 'init') run = init(msg);
  else if (msg.type === 'adopt') {
    run = (async () => {
      if (!booted) throw new Error('adopt before the isolate was parked');
      const next = adopt(booted, msg, post);
      if (next) {
        swapped = true;
        serve(next);
      }
    })();
  } else if (msg.type === 'build') {
    if (!booted) throw new Error('build before the builder isolate was ready');
    run = buildSnapshot(booted.runtime, msg, post, booted.preloaded === true);
  } else if (msg.type === 'request') run = request(msg).finally(afterRequest);
  else if (msg.type === 'event') run = event(msg).finally(afterRequest);
  else run = request(msg);
  run.catch((err: unknown) => {
    exitIfFatal(err);
    post(failure(err, msg.type === 'request' || msg.type === 'event' ? msg.id : undefined));
  });
});
