import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Durability } from '../engine/sqlite-engine.js';
import { BindingError } from '../errors.js';
import { safeFileName } from '../internal/names.js';
import { type Logger, silentLogger } from '../logger.js';
import { idFromName, idFromString, isIdOf, newUniqueId } from './ids.js';
import { namespaceKey } from './migrations.js';
import { type AlarmState, DurableObjectStorage } from './storage.js';
import { callStorage } from './storage-calls.js';

/** Options of {@link DurableObjectNamespaceStore}. */
export interface DurableObjectNamespaceOptions {
  /** Directory of this namespace's files: `<state>/v1/do/<script>/<class>`. */
  dir: string;
  /** The worker (script) that defines the class. */
  scriptName: string;
  className: string;
  durability?: Durability;
  logger?: Logger;
  /** Told when an object's alarm is set, moved or cleared (the alarm scheduler listens). */
  onAlarmChange?: (id: string, scheduledTime: number | null) => void;
}

/**
 * The storage of every object of one Durable Object class: one SQLite file per object id.
 * Ids are checked to belong to this namespace, so a file name is always 64 hex digits and one
 * object can never name another's file.
 */
export class DurableObjectNamespaceStore {
  readonly key: string;
  readonly #open = new Map<string, DurableObjectStorage>();
  readonly #logger: Logger;
  #onAlarm: ((id: string, scheduledTime: number | null) => void) | undefined;

  constructor(readonly options: DurableObjectNamespaceOptions) {
    this.key = namespaceKey(options.dir, `${options.scriptName}/${options.className}`);
    this.#logger = options.logger ?? silentLogger;
    this.#onAlarm = options.onAlarmChange;
  }

  /** Sets who is told of alarm changes (replaces `options.onAlarmChange`; objects already open too). */
  listenAlarms(fn: ((id: string, scheduledTime: number | null) => void) | undefined): void {
    this.#onAlarm = fn;
  }

  idFromName(name: string): string {
    return idFromName(this.key, name);
  }
  newUniqueId(): string {
    return newUniqueId(this.key);
  }
  idFromString(id: unknown, binding = this.options.className): string {
    // An open object's id was checked when it was opened: no checksum per event.
    if (typeof id === 'string' && this.#open.has(id)) return id;
    return idFromString(this.key, binding, id);
  }

  /** The file an object's storage lives in. */
  fileFor(id: string): string {
    return join(this.options.dir, `${this.idFromString(id)}.sqlite`);
  }

  /** The storage of object `id`, opened on first use. */
  storage(id: string): DurableObjectStorage {
    const existing = this.#open.get(id);
    if (existing) return existing;
    const file = this.fileFor(id);
    const label = `${this.options.className} ${id.slice(0, 12)}`;
    const storage = new DurableObjectStorage(
      label,
      file,
      this.options.durability ?? 'process',
      (t) => this.#onAlarm?.(id, t),
    );
    this.#open.set(id, storage);
    this.#logger.debug({ file }, 'opened durable object storage');
    return storage;
  }

  /** One `ctx.storage` host call of object `id` (`get`, `put`, `sqlExec`, `setAlarm`, ...). */
  callStorage(id: string, method: string, args: unknown[]): Promise<unknown> {
    try {
      return callStorage(this.storage(id), method, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ids of objects whose storage is open in this process. */
  openIds(): string[] {
    return [...this.#open.keys()];
  }

  /** Closes one object's file (idle eviction); its next use reopens it with everything committed. */
  evict(id: string): void {
    const s = this.#open.get(id);
    if (!s) return;
    this.#open.delete(id);
    s.close();
  }

  /** Every object in this namespace with an alarm set, read from the files (after a restart). */
  async alarms(): Promise<{ id: string; alarm: AlarmState }[]> {
    const dir = this.options.dir;
    if (!existsSync(dir)) return [];
    const out: { id: string; alarm: AlarmState }[] = [];
    for (const name of readdirSync(dir)) {
      const m = /^([0-9a-f]{64})\.sqlite$/.exec(name);
      if (!m || !isIdOf(this.key, m[1] as string)) continue;
      const id = m[1] as string;
      const wasOpen = this.#open.has(id);
      const alarm = await this.storage(id).alarmState();
      if (!wasOpen) this.evict(id);
      if (alarm) out.push({ id, alarm });
    }
    return out;
  }

  close(): void {
    for (const id of [...this.#open.keys()]) this.evict(id);
  }
}

/** Makes the namespace store of `scriptName`'s class `className` under `root` (`<state>/v1`). */
export function durableObjectNamespace(
  root: string,
  scriptName: string,
  className: string,
  extra: Omit<DurableObjectNamespaceOptions, 'dir' | 'scriptName' | 'className'> = {},
): DurableObjectNamespaceStore {
  if (!scriptName || !className)
    throw new BindingError(
      'ERR_BINDING_CONFIG',
      'a Durable Object namespace needs a script name and a class name',
      {
        hint: 'set durable_objects.bindings[].class_name (and script_name for another worker)',
      },
    );
  return new DurableObjectNamespaceStore({
    dir: join(root, 'do', safeFileName(scriptName), safeFileName(className)),
    scriptName,
    className,
    ...extra,
  });
}
