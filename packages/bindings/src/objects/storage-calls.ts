import { BindingError } from '../errors.js';
import type { DurableObjectListOptions, DurableObjectStorage } from './storage.js';

type StorageMethod = (s: DurableObjectStorage, args: unknown[]) => Promise<unknown>;

/**
 * `ctx.storage` as host calls: method name (Cloudflare's JS name) and positional arguments, as
 * the object's isolate sends them. `transaction(fn)` cannot cross the channel as a function:
 * it goes as `transactionBegin`, the body's calls, then `transactionEnd(commit)`.
 */
const METHODS: Record<string, StorageMethod> = {
  get: (s, [keys]) => s.get(keys as string | string[]),
  put: (s, [key, value]) => s.put(key, value),
  delete: (s, [keys]) => s.delete(keys as string | string[]),
  list: (s, [options]) => s.list((options ?? {}) as DurableObjectListOptions),
  deleteAll: (s) => s.deleteAll(),
  getAlarm: (s) => s.getAlarm(),
  setAlarm: (s, [time]) => s.setAlarm(time),
  deleteAlarm: (s) => s.deleteAlarm(),
  sqlExec: (s, [query, ...bindings]) => s.sql.exec(query as string, ...bindings),
  databaseSize: (s) => s.sql.databaseSize,
  transactionBegin: (s) => s.beginTransaction(),
  transactionEnd: (s, [commit]) => s.endTransaction(commit === true),
};

/** Names of the storage methods an object may call. */
export const STORAGE_METHODS: readonly string[] = Object.keys(METHODS);

/** Runs one storage call of the object whose storage is `storage`. */
export function callStorage(
  storage: DurableObjectStorage,
  method: string,
  args: unknown[],
): Promise<unknown> {
  const fn = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!fn) {
    return Promise.reject(
      new BindingError(
        'ERR_BINDING_METHOD',
        `Durable Object '${storage.label}': ctx.storage has no method ${JSON.stringify(method)}`,
        { hint: `its methods are ${STORAGE_METHODS.join(', ')}` },
      ),
    );
  }
  const list = Array.isArray(args) ? args : [];
  return storage.within(() => fn(storage, list));
}
