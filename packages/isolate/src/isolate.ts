import { Worker } from 'node:worker_threads';
import { decodeSnapshot, toPyodideSnapshot } from '@pyworkers/snapshot';
import type { Bundle } from './bundle.js';
import { IsolateError } from './errors.js';
import { sdkFiles, workerEntry } from './internal/paths.js';
import type { FromWorker, InitMessage, ToWorker, WorkerFile } from './internal/protocol.js';
import { type Logger, silentLogger } from './logger.js';

/** A request handed to an isolate. */
export interface IsolateRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array;
}

/** What the worker answered. */
export interface IsolateResponse {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

/** Options of {@link Isolate.start}. */
export interface IsolateOptions {
  logger?: Logger;
  /**
   * Secrets for the worker's `env`, next to the bundle's `vars` (a secret wins on a name
   * clash). They reach the isolate after it is restored and are never stored in a bundle.
   */
  secrets?: Record<string, string>;
}

interface Pending {
  resolve: (r: IsolateResponse) => void;
  reject: (e: IsolateError) => void;
}

/** Starts a worker_thread and sends it `init`; resolves on the first non-log message. */
export function spawnWorker(
  init: InitMessage,
  logger: Logger,
  onMessage: (msg: FromWorker) => void,
): { worker: Worker; first: Promise<FromWorker> } {
  const entry = workerEntry();
  const worker = new Worker(entry.url, { execArgv: entry.execArgv });
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

/** The files of a bundle as the worker thread wants them. */
export function bundleFiles(bundle: Bundle): WorkerFile[] {
  return [...bundle.files].map(([path, bytes]) => ({ path, bytes }));
}

/**
 * One V8 isolate (a worker_thread) running one Python worker on Pyodide.
 * @example const iso = await Isolate.start(bundle); const res = await iso.fetch(req);
 */
export class Isolate {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly worker: Worker,
    private readonly bundle: Bundle,
    /** Milliseconds from spawn to ready. */
    readonly bootMs: number,
    /** Whether the isolate was restored from the bundle's snapshot. */
    readonly restored: boolean,
  ) {
    worker.on('exit', () =>
      this.fail(
        new IsolateError('ERR_ISOLATE_CRASHED', `isolate for ${bundle.manifest.name} exited`),
      ),
    );
  }

  /** Boots an isolate for a bundle: restores its snapshot when it has one, plain otherwise. */
  static async start(bundle: Bundle, options: IsolateOptions = {}): Promise<Isolate> {
    const logger = options.logger ?? silentLogger;
    const t0 = performance.now();
    let snapshot: Uint8Array | undefined;
    if (bundle.snapshot) {
      const { meta, heap } = decodeSnapshot(bundle.snapshot);
      snapshot = toPyodideSnapshot(heap, { buildId: meta.pyodideBuildId, jsRefs: meta.jsRefs });
    }
    let isolate: Isolate | undefined;
    const { worker, first } = spawnWorker(
      {
        type: 'init',
        mode: 'serve',
        name: bundle.manifest.name,
        mainModule: bundle.manifest.mainModule,
        files: bundleFiles(bundle),
        sdkFiles: sdkFiles(),
        ...(snapshot ? { snapshot } : {}),
      },
      logger,
      (msg) => isolate?.onMessage(msg, logger),
    );
    const ready = await first;
    if (ready.type !== 'ready') {
      await worker.terminate();
      const detail = ready.type === 'error' ? ready.message : ready.type;
      throw new IsolateError(
        'ERR_ISOLATE_BOOT',
        `isolate for ${bundle.manifest.name} failed to boot: ${detail}`,
        {
          userError: ready.type === 'error' && ready.userError,
        },
      );
    }
    isolate = new Isolate(worker, bundle, performance.now() - t0, ready.restored);
    worker.postMessage({
      type: 'env',
      env: { ...bundle.manifest.vars, ...options.secrets },
    } satisfies ToWorker);
    return isolate;
  }

  /** Runs one request through the worker's handler. */
  fetch(request: IsolateRequest): Promise<IsolateResponse> {
    if (this.closed) {
      return Promise.reject(
        new IsolateError(
          'ERR_ISOLATE_CLOSED',
          `isolate for ${this.bundle.manifest.name} is closed`,
        ),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({
        type: 'request',
        id,
        ...request,
      } satisfies ToWorker);
    });
  }

  /** Stops the isolate; requests still running get `ERR_ISOLATE_CLOSED`. */
  async close(): Promise<void> {
    this.fail(
      new IsolateError('ERR_ISOLATE_CLOSED', `isolate for ${this.bundle.manifest.name} was closed`),
    );
    await this.worker.terminate();
  }

  private onMessage(msg: FromWorker, logger: Logger): void {
    if (msg.type === 'response') {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.resolve({ status: msg.status, headers: msg.headers, body: msg.body });
    } else if (msg.type === 'error' && msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      logger.error({ worker: this.bundle.manifest.name }, msg.traceback ?? msg.message);
      p?.reject(new IsolateError('ERR_ISOLATE_HANDLER', msg.message, { userError: msg.userError }));
    }
  }

  private fail(err: IsolateError): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
