// Host side of a worker's bindings: each host (an in-process one, or a host process) answers
// its isolates' host calls with the bindings of `@pyworkers/bindings`, opened on the worker's
// state directory. Every call is checked there against the worker's own declarations.
import { isAbsolute, resolve } from 'node:path';
import {
  type BindingDeclaration,
  type Bundle,
  type HostCallHandler,
  type Logger,
  silentLogger,
} from '@pyworkers/isolate';
import type { HostWorker } from '../host/types.js';

/** One worker's bindings on a store (the shape of `@pyworkers/bindings`' `Bindings`). */
export interface WorkerBindingsHandle {
  readonly handler: HostCallHandler;
  close(): Promise<void>;
}

/** One object's storage, as the host needs it (`@pyworkers/bindings`' `DurableObjectStorage`). */
export interface ObjectStorage {
  alarmState(): Promise<{ scheduledTime: number; retryCount: number } | null>;
  settleAlarm(ran: number, ok: boolean): Promise<number | null>;
  rollbackOpen(): Promise<void>;
}

/** One Durable Object class's storage (`@pyworkers/bindings`' `DurableObjectNamespaceStore`). */
export interface ObjectNamespace {
  idFromString(id: unknown, binding?: string): string;
  storage(id: string): ObjectStorage;
  callStorage(id: string, method: string, args: unknown[]): Promise<unknown>;
  evict(id: string): void;
  alarms(): Promise<{ id: string; alarm: { scheduledTime: number; retryCount: number } }[]>;
}

/** The state of one directory (the shape of `@pyworkers/bindings`' `Store`). */
export interface BindingsStore {
  bindings(declarations: BindingDeclaration[]): WorkerBindingsHandle;
  durableObjects?(
    scriptName: string,
    className: string,
    options?: { onAlarmChange?: (id: string, scheduledTime: number | null) => void },
  ): ObjectNamespace;
  applyDurableObjectMigrations?(scriptName: string, migrations: unknown): string[];
  close(): Promise<void>;
}

/** Opens the store of a state directory (`openStore` of `@pyworkers/bindings`). */
export type OpenStore = (options: { stateDir: string; logger: Logger }) => BindingsStore;

/** Where a worker's state lives on this host, and what relative paths in its manifest are relative to. */
export interface WorkerState {
  /** The state directory (`<project>/.pyworkers/state`, `--persist-to`, `serve --state`). */
  stateDir: string;
  /** Base of the manifest's relative paths (assets directory, D1 migrations). */
  projectDir: string;
}

const inDir = (base: string, path: string): string =>
  isAbsolute(path) ? path : resolve(base, path);

/**
 * A worker's declarations with their directories made absolute for this host, and the worker
 * that defines each Durable Object class filled in (`worker`, when the config names none).
 */
export function hostDeclarations(
  bundle: Bundle,
  state: WorkerState,
  worker = bundle.manifest.name,
): BindingDeclaration[] {
  // Service bindings are answered by the router (services/), not by a store.
  const stored = (bundle.manifest.bindings ?? []).filter((decl) => decl.type !== 'service');
  return stored.map((decl) => {
    if (decl.type === 'durable_object_namespace')
      return { ...decl, scriptName: decl.scriptName ?? worker };
    if (decl.type === 'assets')
      return { ...decl, directory: inDir(state.projectDir, decl.directory) };
    if (decl.type === 'd1' && decl.migrationsDir)
      return { ...decl, migrationsDir: inDir(state.projectDir, decl.migrationsDir) };
    return decl;
  });
}

/** The bindings of every worker a host runs, one store per state directory, opened lazily. */
export class BindingsWiring {
  private readonly stores = new Map<string, BindingsStore>();
  /** By state dir, worker and declarations: every cold start of one build shares one handle. */
  private readonly handles = new Map<string, WorkerBindingsHandle | HostCallHandler>();

  constructor(
    private readonly open: OpenStore,
    private readonly logger: Logger = silentLogger,
  ) {}

  /** The handler for isolates of `worker` running `bundle`; none when it declares no bindings. */
  handlerFor(worker: HostWorker, bundle: Bundle): HostCallHandler | undefined {
    if (!bundle.manifest.bindings?.some((decl) => decl.type !== 'service')) return undefined;
    const state = worker.state;
    if (!state) {
      return async ({ binding }) => {
        throw Object.assign(
          new Error(`binding '${binding}' has no state directory on this host (serve --state DIR)`),
          { code: 'ERR_BINDING_UNAVAILABLE' },
        );
      };
    }
    const declarations = hostDeclarations(bundle, state, worker.name);
    const key = JSON.stringify([state.stateDir, worker.name, declarations]);
    let handle = this.handles.get(key);
    if (!handle) {
      try {
        handle = this.#store(state.stateDir).bindings(declarations);
      } catch (err) {
        // The worker still runs; each binding call raises this in Python (e.g. a bad declaration).
        this.logger.error(
          { worker: worker.name, err: (err as Error).message },
          'bindings unavailable',
        );
        handle = async () => {
          throw err;
        };
      }
      this.handles.set(key, handle);
    }
    return typeof handle === 'function' ? handle : handle.handler;
  }

  #store(stateDir: string): BindingsStore {
    let store = this.stores.get(stateDir);
    if (!store) {
      store = this.open({ stateDir, logger: this.logger });
      this.stores.set(stateDir, store);
    }
    return store;
  }

  /** The storage of `scriptName`'s Durable Object class `className` under `stateDir`. */
  objects(
    stateDir: string,
    scriptName: string,
    className: string,
    onAlarmChange?: (id: string, scheduledTime: number | null) => void,
  ): ObjectNamespace {
    const store = this.#store(stateDir);
    if (!store.durableObjects)
      throw new Error('the bindings store of this host has no Durable Object storage');
    return store.durableObjects(scriptName, className, onAlarmChange ? { onAlarmChange } : {});
  }

  /** Applies `scriptName`'s Durable Object migrations to the state under `stateDir`. */
  migrate(stateDir: string, scriptName: string, migrations: unknown): string[] {
    return this.#store(stateDir).applyDurableObjectMigrations?.(scriptName, migrations) ?? [];
  }

  /** Closes every worker's bindings and every store (after the isolates stopped). */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(
      handles.map((h) => (typeof h === 'function' ? undefined : h.close().catch(() => {}))),
    );
    const stores = [...this.stores.values()];
    this.stores.clear();
    await Promise.all(stores.map((s) => s.close()));
  }
}
