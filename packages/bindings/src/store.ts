import { join } from 'node:path';
import { type AssetRequest, type AssetsResponder, createAssetsResponder } from './assets.js';
import { D1Database } from './d1.js';
import { type BindingDeclaration, parseDeclarations } from './declarations.js';
import { type Durability, SqliteEngine } from './engine/sqlite-engine.js';
import type { StorageEngine } from './engine/types.js';
import { BindingError, isBindingError } from './errors.js';
import { KvNamespace } from './kv.js';
import { type Logger, silentLogger } from './logger.js';
import { applyDurableObjectMigrations } from './objects/migrations.js';
import {
  type DurableObjectNamespaceOptions,
  type DurableObjectNamespaceStore,
  durableObjectNamespace,
} from './objects/namespace.js';
import { QueueStore } from './queues.js';
import { R2Bucket } from './r2.js';

/** One call from a worker: which binding, which method, positional arguments. */
export interface BindingCall {
  binding: string;
  method: string;
  args: unknown[];
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** Where state lives; the CLI passes `<project>/.pyworkers/state` unless `--state` says otherwise. */
  stateDir: string;
  logger?: Logger;
  /** See {@link Durability}; default `process` (survives kill -9 of the server). */
  durability?: Durability;
  /** Clock in ms since the epoch (tests move it). */
  now?: () => number;
}

type Method = (args: unknown[]) => Promise<unknown>;

/** The bindings one worker may call: every call is checked against its declarations. */
export interface Bindings {
  /** Calls `method` on the binding named `binding` with positional `args`. */
  call(binding: string, method: string, args: unknown[]): Promise<unknown>;
  /** The same as `call`, shaped as `@pyworkers/isolate`'s `HostCallHandler`. */
  readonly handler: (call: BindingCall) => Promise<unknown>;
  /** The declarations this worker was given. */
  readonly declarations: readonly BindingDeclaration[];
  close(): Promise<void>;
}

const KV_METHODS = ['get', 'getWithMetadata', 'put', 'delete', 'list'] as const;
const D1_METHODS = ['all', 'run', 'first', 'raw', 'batch', 'exec'] as const;

/** An async open run once; a failure is forgotten so a fixed problem is retried. */
function once<T>(open: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    if (!p) {
      p = open();
      p.catch(() => {
        p = undefined;
      });
    }
    return p;
  };
}

/**
 * The host's state: one per host process (or router). It opens the SQLite files lazily and
 * shares them between the workers that declare the same namespace, database or bucket.
 */
export class Store {
  readonly stateDir: string;
  readonly engine: SqliteEngine;
  readonly logger: Logger;
  readonly now: () => number;

  constructor(options: StoreOptions) {
    this.stateDir = options.stateDir;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.engine = new SqliteEngine({
      root: join(options.stateDir, 'v1'),
      logger: this.logger,
      ...(options.durability ? { durability: options.durability } : {}),
    });
  }

  /** The storage engine the bindings are written against. */
  get storage(): StorageEngine {
    return this.engine;
  }

  /** The KV namespace with this id (as `kv_namespaces[].id` names it), errors naming `binding`. */
  async kv(id: string, binding = id): Promise<KvNamespace> {
    return KvNamespace.open(binding, await this.engine.database(['kv', id]), this.now);
  }

  /** The D1 database with this name (as `d1_databases[].database_name` names it). */
  async d1(databaseName: string, binding = databaseName): Promise<D1Database> {
    return D1Database.open(binding, await this.engine.database(['d1', databaseName]));
  }

  #queues: (() => Promise<QueueStore>) | undefined;

  /** Every queue's messages (one database); the router's consumer loop pulls and settles here. */
  queues(): Promise<QueueStore> {
    this.#queues ??= once(async () =>
      QueueStore.open(await this.engine.database(['queues', 'queues']), this.now, this.logger),
    );
    return this.#queues();
  }

  /** The R2 bucket with this name (as `r2_buckets[].bucket_name` names it). */
  async r2(bucketName: string, binding = bucketName): Promise<R2Bucket> {
    const db = await this.engine.database(['r2', bucketName]);
    return R2Bucket.open(binding, db, this.engine.blobs(['r2', bucketName, 'blobs']), this.now);
  }

  readonly #objects = new Map<string, DurableObjectNamespaceStore>();

  /**
   * The storage of Durable Object class `className` defined by worker `scriptName`: one SQLite
   * file per object under `<state>/v1/do/<script>/<class>/`. One store per pair and process.
   */
  durableObjects(
    scriptName: string,
    className: string,
    options: Pick<DurableObjectNamespaceOptions, 'onAlarmChange'> = {},
  ): DurableObjectNamespaceStore {
    const key = `${scriptName}/${className}`;
    let ns = this.#objects.get(key);
    if (!ns) {
      ns = durableObjectNamespace(this.engine.root, scriptName, className, {
        durability: this.engine.durability,
        logger: this.logger,
        ...options,
      });
      this.#objects.set(key, ns);
    } else if (options.onAlarmChange) ns.listenAlarms(options.onAlarmChange);
    return ns;
  }

  /**
   * Applies worker `scriptName`'s Durable Object `migrations` (wrangler's `[[migrations]]`) to
   * the state, each tag once; renames and deletes close that worker's open objects first.
   */
  applyDurableObjectMigrations(scriptName: string, migrations: unknown): string[] {
    for (const [key, ns] of this.#objects) {
      if (key.startsWith(`${scriptName}/`)) {
        ns.close();
        this.#objects.delete(key);
      }
    }
    return applyDurableObjectMigrations(this.engine.root, scriptName, migrations);
  }

  /** The bindings of one worker. Declarations are validated here. */
  bindings(declarations: unknown): Bindings {
    const decls = parseDeclarations(declarations);
    const byName = new Map<string, { decl: BindingDeclaration; methods: Map<string, Method> }>();
    for (const decl of decls) byName.set(decl.name, { decl, methods: this.#methods(decl) });
    const call = async (binding: string, method: string, args: unknown[]): Promise<unknown> => {
      if (this.#closed) {
        throw new BindingError(
          'ERR_BINDING_CLOSED',
          `binding '${String(binding)}': the store is closed (the server is shutting down)`,
          {
            userError: false,
          },
        );
      }
      const entry = typeof binding === 'string' ? byName.get(binding) : undefined;
      if (!entry) {
        throw new BindingError(
          'ERR_BINDING_UNDECLARED',
          `binding '${String(binding)}' is not declared for this worker`,
          {
            hint: `declare it in wrangler.toml or [tool.pyworkers]; declared: ${[...byName.keys()].join(', ') || 'none'}`,
          },
        );
      }
      const fn = typeof method === 'string' ? entry.methods.get(method) : undefined;
      if (!fn) {
        throw new BindingError(
          'ERR_BINDING_METHOD',
          `${label(entry.decl)} '${binding}' has no method ${JSON.stringify(method)}`,
          {
            hint: `its methods are ${[...entry.methods.keys()].join(', ')}`,
          },
        );
      }
      try {
        return await fn(Array.isArray(args) ? args : []);
      } catch (error) {
        if (isBindingError(error)) throw error;
        this.logger.error({ binding, method, err: error }, 'binding call failed');
        throw new BindingError(
          'ERR_STATE_IO',
          `${label(entry.decl)} '${binding}': ${method}() failed: ${(error as Error).message}`,
          {
            cause: error,
            userError: false,
          },
        );
      }
    };
    return {
      call,
      handler: (c: BindingCall) => call(c.binding, c.method, c.args),
      declarations: decls,
      close: async () => {},
    };
  }

  #methods(decl: BindingDeclaration): Map<string, Method> {
    const methods = new Map<string, Method>();
    switch (decl.type) {
      case 'kv': {
        const open = once(() => this.kv(decl.id, decl.name));
        for (const m of KV_METHODS) {
          methods.set(m, async (args) => {
            const ns = await open();
            return (ns[m] as (...a: unknown[]) => Promise<unknown>).apply(ns, args);
          });
        }
        break;
      }
      case 'd1': {
        const open = once(() => this.d1(decl.databaseName, decl.name));
        for (const m of D1_METHODS) {
          methods.set(m, async (args) => {
            const db = await open();
            return (db[m] as (...a: unknown[]) => Promise<unknown>).apply(db, args);
          });
        }
        break;
      }
      case 'r2': {
        const open = once(() => this.r2(decl.bucketName, decl.name));
        const direct = ['head', 'get', 'put', 'delete', 'list'] as const;
        for (const m of direct) {
          methods.set(m, async (args) => {
            const b = await open();
            return (b[m] as (...a: unknown[]) => Promise<unknown>).apply(b, args);
          });
        }
        const multipart = {
          createMultipartUpload: 'create',
          uploadPart: 'uploadPart',
          completeMultipartUpload: 'complete',
          abortMultipartUpload: 'abort',
        } as const;
        for (const [m, impl] of Object.entries(multipart)) {
          methods.set(m, async (args) => {
            const mp = (await open()).multipart;
            return (mp[impl] as (...a: unknown[]) => Promise<unknown>).apply(mp, args);
          });
        }
        break;
      }
      case 'queue': {
        const where = (m: string) => `Queue binding '${decl.name}' ${m}()`;
        const delay = decl.deliveryDelay ?? 0;
        methods.set('send', async ([body, options]) =>
          (await this.queues()).send(where('send'), decl.queue, body, options, delay),
        );
        methods.set('sendBatch', async ([messages, options]) =>
          (await this.queues()).sendBatch(where('sendBatch'), decl.queue, messages, options, delay),
        );
        break;
      }
      case 'assets': {
        let responder: AssetsResponder | undefined;
        methods.set('fetch', async ([request]) => {
          responder ??= createAssetsResponder({
            directory: decl.directory,
            ...(decl.htmlHandling ? { htmlHandling: decl.htmlHandling } : {}),
            ...(decl.notFoundHandling ? { notFoundHandling: decl.notFoundHandling } : {}),
            logger: this.logger,
          });
          const r = request as Partial<AssetRequest> | null;
          if (!r || typeof r.url !== 'string') {
            throw new BindingError(
              'ERR_BINDING_ARGS',
              `Assets binding '${decl.name}' fetch(): takes a request with a url`,
            );
          }
          return responder.fetch({
            method: r.method ?? 'GET',
            url: r.url,
            headers: r.headers ?? {},
          });
        });
        break;
      }
      case 'durable_object_namespace': {
        // Ids only: a stub's fetch/RPC goes to the object's isolate (the router places it),
        // and ctx.storage is the object's own channel (`DurableObjectNamespaceStore.callStorage`).
        const ns = () => this.durableObjects(decl.scriptName, decl.className);
        const name = (v: unknown): string => {
          if (typeof v === 'string') return v;
          throw new BindingError(
            'ERR_DO_ID',
            `Durable Object binding '${decl.name}': idFromName() takes a string, got ${typeof v}`,
          );
        };
        methods.set('idFromName', async ([n]) => ns().idFromName(name(n)));
        methods.set('newUniqueId', async () => ns().newUniqueId());
        methods.set('idFromString', async ([id]) => ns().idFromString(id, decl.name));
        break;
      }
    }
    return methods;
  }

  #closed = false;

  async close(): Promise<void> {
    this.#closed = true;
    for (const ns of this.#objects.values()) ns.close();
    await this.engine.close();
  }
}

function label(decl: BindingDeclaration): string {
  switch (decl.type) {
    case 'kv':
      return 'KV binding';
    case 'd1':
      return 'D1 binding';
    case 'r2':
      return 'R2 binding';
    case 'queue':
      return 'Queue binding';
    case 'assets':
      return 'Assets binding';
    case 'durable_object_namespace':
      return 'Durable Object binding';
  }
}

/** Opens the host's state under `stateDir`. */
export function openStore(options: StoreOptions): Store {
  return new Store(options);
}

/** One worker's bindings on a store of its own; `close()` closes that store. */
export function createBindings(options: StoreOptions & { declarations: unknown }): Bindings {
  const store = openStore(options);
  const bindings = store.bindings(options.declarations);
  return { ...bindings, close: () => store.close() };
}
