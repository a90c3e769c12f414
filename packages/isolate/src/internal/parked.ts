// One isolate booted from the baseline snapshot and parked, waiting for a worker's heap to be
// swapped in (IsolateLauncher's pool holds these).
import type { Worker } from 'node:worker_threads';
import { type BaselineOptions, loadBaseline } from '../baseline.js';
import { IsolateError } from '../errors.js';
import type { IsolateLimits } from '../limits.js';
import type { Logger } from '../logger.js';
import { bootAssets } from './assets.js';
import { forwarding } from './forwarding-logger.js';
import { packMountSet, sdkMountSet } from './mounts.js';
import type { FromWorker } from './protocol.js';
import { spawnWorker } from './spawn.js';
import { threadFailure } from './thread-error.js';

export interface Parked {
  worker: Worker;
  /** Resolves once the isolate is parked; rejects when its boot failed. */
  ready: Promise<void>;
  route: (msg: FromWorker) => void;
  parked: boolean;
  /** Where the isolate's output goes: the launcher's logger until it adopts a worker. */
  logger: Logger;
  name: string;
}

/** What a parked boot needs from its launcher. */
export interface ParkedBoot {
  baseline: BaselineOptions;
  limits: IsolateLimits;
  /** Python run before parking (tests provoke swap conflicts with it). */
  warmup: string | undefined;
  logger: Logger;
  closed(): boolean;
  /** It parked: the pool may boot the next one. */
  onParked(entry: Parked): void;
  /** Its thread exited, or its boot failed: out of the pool. */
  onGone(entry: Parked): void;
}

/** Boots one parked isolate; its `ready` settles when it has parked or failed. */
export function bootParked(boot: ParkedBoot): Parked {
  let worker: Worker | undefined;
  const entry: Parked = {
    worker: undefined as unknown as Worker,
    ready: Promise.resolve(),
    route: () => {},
    parked: false,
    logger: boot.logger,
    name: '(parked)',
  };
  entry.ready = (async () => {
    const [assets, baseline] = await Promise.all([bootAssets(), loadBaseline(boot.baseline)]);
    if (boot.closed()) throw new IsolateError('ERR_ISOLATE_CLOSED', 'launcher closed');
    const spawned = spawnWorker(
      {
        type: 'init',
        mode: 'park',
        name: '(parked)',
        mainModule: '',
        files: packMountSet([]),
        sdkFiles: sdkMountSet(),
        assets,
        // Its id lets a dedicated image made on this baseline swap in only what differs.
        image: {
          ...baseline.image,
          id: baseline.id(),
        },
        limits: { memoryBytes: boot.limits.memoryBytes },
        ...(boot.warmup ? { warmup: boot.warmup } : {}),
      },
      forwarding(entry),
      (msg) => entry.route(msg),
      boot.limits.jsHeapMb,
    );
    worker = spawned.worker;
    entry.worker = worker;
    const first = await spawned.first;
    if (first.type !== 'parked') {
      throw threadFailure(first, 'ERR_ISOLATE_BOOT', `parked isolate failed to boot: `);
    }
    entry.parked = true;
    worker.once('exit', () => boot.onGone(entry));
    boot.onParked(entry);
  })();
  entry.ready.catch((err: Error) => {
    // Closing the launcher mid-boot is not a failure worth logging.
    if (!boot.closed()) boot.logger.error({ err: err.message }, 'parked isolate failed to boot');
    boot.onGone(entry);
    void worker?.terminate();
  });
  return entry;
}
