// The router's side of Durable Objects: at start, each worker's migrations are applied to its
// state and the alarms stored in its objects' files are read back (an alarm set before a
// restart fires after it); then the schedule is kept current by the hosts' alarm messages and
// each due alarm is sent, like any event of the object, to the host its id hashes to. That
// host runs `alarm()` and settles the alarm in the object's file (cleared, or retried with
// backoff), and tells the router the next time.
import { openStore, type Store } from '@pyworkers/bindings';
import type { Logger, RpcResult } from '@pyworkers/isolate';
import type { HostWorker } from '../host/types.js';
import type { ObjectEventInput, ObjectTarget } from './object-host.js';

/** Runs one event of an object where it lives (the fleet's `dispatchObject`). */
export type RunObjectEvent = (
  worker: HostWorker,
  target: ObjectTarget,
  input: ObjectEventInput,
) => Promise<RpcResult>;

interface Due {
  worker: string;
  className: string;
  id: string;
  time: number;
}

const MAX_TIMER = 2 ** 31 - 1;
/** When delivering an alarm failed (its host crashed): try again after this long. */
const REDELIVER_MS = 2_000;

/** The alarm schedule of every object of the router's workers. */
export class RouterObjects {
  readonly #due = new Map<string, Due>();
  readonly #running = new Set<string>();
  readonly #stores = new Map<string, Store>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Resolves once migrations ran and stored alarms were read back. */
  readonly ready: Promise<void>;

  constructor(
    private readonly workers: ReadonlyMap<string, HostWorker>,
    private readonly run: RunObjectEvent,
    private readonly logger: Logger,
  ) {
    this.ready = this.#start().catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'durable objects could not start');
    });
  }

  #store(stateDir: string): Store {
    let store = this.#stores.get(stateDir);
    if (!store) {
      store = openStore({ stateDir, logger: this.logger });
      this.#stores.set(stateDir, store);
    }
    return store;
  }

  async #start(): Promise<void> {
    for (const worker of this.workers.values()) {
      if (!worker.state) continue;
      let config: { classes: string[]; migrations: unknown[] } | undefined;
      try {
        config = (await worker.bundle()).manifest.durableObjects;
      } catch {
        continue; // a bundle that cannot load fails its own requests
      }
      if (!config) continue;
      const store = this.#store(worker.state.stateDir);
      const applied = store.applyDurableObjectMigrations(worker.name, config.migrations);
      if (applied.length)
        this.logger.info(
          { worker: worker.name, tags: applied },
          'durable object migrations applied',
        );
      for (const className of config.classes) {
        const ns = store.durableObjects(worker.name, className);
        for (const { id, alarm } of await ns.alarms())
          this.alarm(worker.name, className, id, alarm.scheduledTime);
      }
    }
    // The router reads the files only at start; the hosts own them from here on.
    await Promise.all([...this.#stores.values()].map((s) => s.close()));
    this.#stores.clear();
  }

  /** An object's alarm was set, moved or cleared (null) where it lives. */
  alarm(worker: string, className: string, id: string, time: number | null): void {
    const key = `${worker}\u0000${className}\u0000${id}`;
    if (time === null) this.#due.delete(key);
    else this.#due.set(key, { worker, className, id, time });
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || this.#due.size === 0) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [key, d] of this.#due) if (!this.#running.has(key)) next = Math.min(next, d.time);
    if (next === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_TIMER);
    this.#timer = setTimeout(() => this.#fire(), delay);
    this.#timer.unref();
  }

  #fire(): void {
    const now = Date.now();
    for (const [key, due] of this.#due) {
      if (due.time > now || this.#running.has(key)) continue;
      this.#due.delete(key);
      void this.#deliver(key, due);
    }
    this.#arm();
  }

  async #deliver(key: string, due: Due): Promise<void> {
    const worker = this.workers.get(due.worker);
    if (!worker) return;
    this.#running.add(key);
    try {
      const result = await this.run(
        worker,
        { className: due.className, id: due.id },
        { method: 'alarm', args: [], op: 'alarm' },
      );
      if (result.outcome === 'exception')
        this.logger.warn(
          {
            worker: due.worker,
            className: due.className,
            id: due.id.slice(0, 12),
            error: result.error.message,
          },
          'durable object alarm raised (retried with backoff)',
        );
    } catch (err) {
      // Not delivered (a host crashed, the router is closing): the alarm is still in the file.
      if (!this.#stopped && !this.#due.has(key))
        this.#due.set(key, { ...due, time: Date.now() + REDELIVER_MS });
      this.logger.warn(
        { worker: due.worker, className: due.className, err: (err as Error).message },
        'durable object alarm not delivered; trying again',
      );
    } finally {
      this.#running.delete(key);
      this.#arm();
    }
  }

  /** Alarms scheduled now (for tests and the status page). */
  get scheduled(): number {
    return this.#due.size;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.ready;
    await Promise.all([...this.#stores.values()].map((s) => s.close()));
  }
}
