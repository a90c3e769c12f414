import { Worker } from 'node:worker_threads';
import { IsolateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { workerEntry } from './paths.js';
import type { FromWorker, InitMessage, ToWorker } from './protocol.js';

/** A worker thread and the first message it answered `init` with. */
export interface Spawned {
  worker: Worker;
  first: Promise<FromWorker>;
}

/**
 * The V8 young generation of a serving isolate, in MiB. V8's default lets it grow to 16 MiB
 * semi-spaces while Pyodide boots and never gives the pages back: 12 MiB of RSS per isolate
 * that holds 0.5 MiB of live objects once parked. At 4 MiB a parked isolate holds ~10 MiB
 * less; a hello request allocates a few KiB, so scavenges stay rare and cheap
 * (router README, "HTTP": measured alternatives).
 */
export const YOUNG_GENERATION_MB = 4;

/**
 * Node 20 has the web's `WebSocket` client (undici's, as `fetch` is) behind a flag; 22 has it
 * on. An isolate thread gets it either way, so a worker can open a WebSocket to a server
 * (`js.WebSocket.new(url)`, Cloudflare's outbound WebSockets) over the same network `fetch`
 * uses.
 */
const WEBSOCKET_FLAGS =
  typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined' &&
  process.allowedNodeEnvironmentFlags.has('--experimental-websocket')
    ? ['--experimental-websocket']
    : [];

/**
 * Starts a worker_thread and sends it `init`; `first` resolves on the first message that is not
 * a log line. Later messages go to `onMessage`. `jsHeapMb` caps the thread's V8 heap (a serving
 * isolate: its young generation is capped too, see {@link YOUNG_GENERATION_MB}).
 */
export function spawnWorker(
  init: InitMessage,
  logger: Logger,
  onMessage: (msg: FromWorker) => void,
  jsHeapMb?: number,
): Spawned {
  const entry = workerEntry();
  const worker = new Worker(entry.url, {
    execArgv: [...entry.execArgv, ...WEBSOCKET_FLAGS],
    // A thread's process.env is a copy of the host's unless given: the isolate needs none of it.
    env: {},
    ...(jsHeapMb
      ? {
          resourceLimits: {
            maxOldGenerationSizeMb: jsHeapMb,
            maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
          },
        }
      : {}),
  });
  const first = new Promise<FromWorker>((resolve, reject) => {
    let settled = false;
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'log') {
        const fields = { worker: init.name, stream: msg.stream };
        logger[msg.level ?? 'info'](
          msg.logger ? { ...fields, logger: msg.logger } : fields,
          msg.line,
        );
        return;
      }
      if (!settled) {
        settled = true;
        resolve(msg);
        return;
      }
      onMessage(msg);
    });
    worker.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(
          new IsolateError(
            'ERR_ISOLATE_BOOT',
            `isolate for ${init.name} failed to boot: ${err.message}`,
            { cause: err },
          ),
        );
      }
    });
    worker.on('exit', (code) => {
      if (!settled) {
        settled = true;
        reject(
          new IsolateError(
            'ERR_ISOLATE_BOOT',
            `isolate for ${init.name} exited with code ${code} while booting`,
          ),
        );
      }
    });
  });
  worker.postMessage(init satisfies ToWorker);
  return { worker, first };
}
