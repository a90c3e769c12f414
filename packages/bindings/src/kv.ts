import type { SqlDatabase } from './engine/types.js';
import { BindingError, type BindingErrorCode } from './errors.js';
import {
  describe,
  numberOpt,
  optionsArg,
  stringArg,
  toBytes,
  utf8Length,
} from './internal/args.js';

/** Cloudflare's KV limits (the same Miniflare enforces). */
export const KV_LIMITS = {
  maxKeyBytes: 512,
  maxValueBytes: 25 * 1024 * 1024,
  maxMetadataBytes: 1024,
  minExpirationTtlSeconds: 60,
  minCacheTtlSeconds: 30,
  maxListKeys: 1000,
  maxBulkGetKeys: 100,
} as const;

/** A key as `list()` returns it. */
export interface KvListKey {
  name: string;
  expiration?: number;
  metadata?: unknown;
}

/** What `list()` returns, as Cloudflare shapes it. */
export interface KvListResult {
  keys: KvListKey[];
  list_complete: boolean;
  cursor?: string;
  cacheStatus: null;
}

type ValueType = 'text' | 'json' | 'arrayBuffer' | 'stream';

const SCHEMA = `CREATE TABLE IF NOT EXISTS _kv (
  key TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL,
  expiration INTEGER,
  metadata TEXT
) WITHOUT ROWID`;

interface Row {
  value: Uint8Array;
  expiration: number | null;
  metadata: string | null;
}

const decoder = new TextDecoder();

/** One KV namespace on one SQLite database. Methods take the worker's positional arguments. */
export class KvNamespace {
  #puts = 0;
  private constructor(
    readonly binding: string,
    readonly db: SqlDatabase,
    readonly now: () => number,
  ) {}

  /** Opens the namespace (creating its table). `now` is milliseconds since the epoch. */
  static async open(
    binding: string,
    db: SqlDatabase,
    now: () => number = Date.now,
  ): Promise<KvNamespace> {
    await db.exec(SCHEMA);
    const ns = new KvNamespace(binding, db, now);
    await ns.sweep();
    return ns;
  }

  #error(code: BindingErrorCode, op: string, status: number, text: string): BindingError {
    return new BindingError(
      code,
      `KV binding '${this.binding}': KV ${op} failed: ${status} ${text}`,
    );
  }

  #checkKey(op: string, key: unknown): string {
    const k = stringArg(`KV binding '${this.binding}' ${op.toLowerCase()}()`, 'key', key);
    if (k === '') throw this.#error('ERR_KV_KEY', op, 400, 'Key names must not be empty');
    if (k === '.' || k === '..')
      throw this.#error(
        'ERR_KV_KEY',
        op,
        400,
        `Illegal key name "${k}". Please use a different name.`,
      );
    const len = utf8Length(k);
    if (len > KV_LIMITS.maxKeyBytes) {
      throw this.#error(
        'ERR_KV_KEY',
        op,
        414,
        `UTF-8 encoded length of ${len} exceeds key length limit of ${KV_LIMITS.maxKeyBytes}.`,
      );
    }
    return k;
  }

  #nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  #type(options: unknown): { type: ValueType; cacheTtl: number | undefined } {
    const opts =
      typeof options === 'string'
        ? { type: options }
        : optionsArg(`KV binding '${this.binding}' get()`, options);
    const type = (opts.type ?? 'text') as string;
    if (type !== 'text' && type !== 'json' && type !== 'arrayBuffer' && type !== 'stream') {
      throw new BindingError(
        'ERR_BINDING_ARGS',
        `KV binding '${this.binding}': get() type must be "text", "json", "arrayBuffer" or "stream", got ${JSON.stringify(type)}`,
      );
    }
    const cacheTtl = numberOpt(`KV binding '${this.binding}' get()`, 'cacheTtl', opts.cacheTtl);
    if (cacheTtl !== undefined && cacheTtl < KV_LIMITS.minCacheTtlSeconds) {
      throw this.#error(
        'ERR_KV_EXPIRATION',
        'GET',
        400,
        `Invalid cache_ttl of ${cacheTtl}. Cache TTL must be at least ${KV_LIMITS.minCacheTtlSeconds}.`,
      );
    }
    return { type, cacheTtl };
  }

  async #row(key: string): Promise<Row | null> {
    const { rows } = await this.db.query<Row>({
      sql: 'SELECT value, expiration, metadata FROM _kv WHERE key = ? AND (expiration IS NULL OR expiration > ?)',
      params: [key, this.#nowSeconds()],
    });
    return rows[0] ?? null;
  }

  #decode(key: string, value: Uint8Array, type: ValueType): unknown {
    if (type === 'arrayBuffer' || type === 'stream') return value;
    const text = decoder.decode(value);
    if (type === 'text') return text;
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new BindingError(
        'ERR_KV_JSON',
        `KV binding '${this.binding}': the value of key ${JSON.stringify(key)} is not valid JSON`,
        {
          cause,
          hint: 'read it with type "text" or store it with json.dumps()',
        },
      );
    }
  }

  /** `get(key, type | {type, cacheTtl})`; an array of keys gives `{key: value | null}`. */
  async get(key: unknown, options?: unknown): Promise<unknown> {
    if (Array.isArray(key)) return this.#bulk(key, options, false);
    const k = this.#checkKey('GET', key);
    const { type } = this.#type(options);
    const row = await this.#row(k);
    return row === null ? null : this.#decode(k, row.value, type);
  }

  /** `getWithMetadata(key, type | options)` -> `{value, metadata, cacheStatus}`. */
  async getWithMetadata(key: unknown, options?: unknown): Promise<unknown> {
    if (Array.isArray(key)) return this.#bulk(key, options, true);
    const k = this.#checkKey('GET', key);
    const { type } = this.#type(options);
    const row = await this.#row(k);
    if (row === null) return { value: null, metadata: null, cacheStatus: null };
    return {
      value: this.#decode(k, row.value, type),
      metadata: row.metadata === null ? null : JSON.parse(row.metadata),
      cacheStatus: null,
    };
  }

  async #bulk(
    keys: unknown[],
    options: unknown,
    withMetadata: boolean,
  ): Promise<Record<string, unknown>> {
    const { type } = this.#type(options);
    if (type !== 'text' && type !== 'json') {
      throw this.#error(
        'ERR_BINDING_ARGS',
        'GET',
        400,
        `"${type}" is not a valid type. Use "json" or "text"`,
      );
    }
    if (keys.length > KV_LIMITS.maxBulkGetKeys) {
      throw this.#error(
        'ERR_BINDING_ARGS',
        'GET',
        400,
        `You can request a maximum of ${KV_LIMITS.maxBulkGetKeys} keys`,
      );
    }
    if (keys.length < 1)
      throw this.#error('ERR_BINDING_ARGS', 'GET', 400, 'You must request a minimum of 1 key');
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const k = this.#checkKey('GET', key);
      const row = await this.#row(k);
      const value = row === null ? null : this.#decode(k, row.value, type);
      out[k] = withMetadata
        ? row === null
          ? null
          : { value, metadata: row.metadata === null ? null : JSON.parse(row.metadata) }
        : value;
    }
    return out;
  }

  /** `put(key, value, {expiration, expirationTtl, metadata})`. Durable once it resolves. */
  async put(key: unknown, value: unknown, options?: unknown): Promise<null> {
    const k = this.#checkKey('PUT', key);
    const bytes = toBytes(value);
    if (bytes === null) {
      throw new BindingError(
        'ERR_KV_VALUE',
        `KV binding '${this.binding}': put() takes a string or bytes as the value, got ${describe(value)}`,
        {
          hint: 'serialise other values first, e.g. json.dumps(value)',
        },
      );
    }
    if (bytes.byteLength > KV_LIMITS.maxValueBytes) {
      throw this.#error(
        'ERR_KV_VALUE',
        'PUT',
        413,
        `Value length of ${bytes.byteLength} exceeds limit of ${KV_LIMITS.maxValueBytes}.`,
      );
    }
    const opts = optionsArg(`KV binding '${this.binding}' put()`, options);
    const expiration = this.#expiration(opts);
    let metadata: string | null = null;
    if (opts.metadata !== undefined && opts.metadata !== null) {
      try {
        metadata = JSON.stringify(opts.metadata);
      } catch (cause) {
        throw new BindingError(
          'ERR_KV_METADATA',
          `KV binding '${this.binding}': metadata must be JSON-serialisable`,
          { cause },
        );
      }
      const len = utf8Length(metadata);
      if (len > KV_LIMITS.maxMetadataBytes) {
        throw this.#error(
          'ERR_KV_METADATA',
          'PUT',
          413,
          `Metadata length of ${len} exceeds limit of ${KV_LIMITS.maxMetadataBytes}.`,
        );
      }
    }
    await this.db.query({
      sql: 'INSERT OR REPLACE INTO _kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?)',
      params: [k, bytes, expiration, metadata],
    });
    if (++this.#puts % 1000 === 0) await this.sweep();
    return null;
  }

  #expiration(opts: Record<string, unknown>): number | null {
    const where = `KV binding '${this.binding}' put()`;
    const now = this.#nowSeconds();
    const ttl = numberOpt(where, 'expirationTtl', opts.expirationTtl ?? opts.expiration_ttl);
    if (ttl !== undefined) {
      const t = Math.trunc(ttl);
      if (t <= 0)
        throw this.#error(
          'ERR_KV_EXPIRATION',
          'PUT',
          400,
          `Invalid expiration_ttl of ${ttl}. Please specify integer greater than 0.`,
        );
      if (t < KV_LIMITS.minExpirationTtlSeconds) {
        throw this.#error(
          'ERR_KV_EXPIRATION',
          'PUT',
          400,
          `Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least ${KV_LIMITS.minExpirationTtlSeconds}.`,
        );
      }
      return now + t;
    }
    const exp = numberOpt(where, 'expiration', opts.expiration);
    if (exp === undefined) return null;
    const e = Math.trunc(exp);
    if (e <= now) {
      throw this.#error(
        'ERR_KV_EXPIRATION',
        'PUT',
        400,
        `Invalid expiration of ${exp}. Please specify integer greater than the current number of seconds since the UNIX epoch.`,
      );
    }
    if (e < now + KV_LIMITS.minExpirationTtlSeconds) {
      throw this.#error(
        'ERR_KV_EXPIRATION',
        'PUT',
        400,
        `Invalid expiration of ${exp}. Expiration times must be at least ${KV_LIMITS.minExpirationTtlSeconds} seconds in the future.`,
      );
    }
    return e;
  }

  /** `delete(key)`; deleting a missing key is not an error. */
  async delete(key: unknown): Promise<null> {
    const k = this.#checkKey('DELETE', key);
    await this.db.query({ sql: 'DELETE FROM _kv WHERE key = ?', params: [k] });
    return null;
  }

  /** `list({prefix, limit, cursor})`, keys in UTF-8 byte order as Cloudflare lists them. */
  async list(options?: unknown): Promise<KvListResult> {
    const opts = optionsArg(`KV binding '${this.binding}' list()`, options);
    const where = `KV binding '${this.binding}' list()`;
    const limit = numberOpt(where, 'limit', opts.limit) ?? KV_LIMITS.maxListKeys;
    if (!Number.isInteger(limit) || limit < 1) {
      throw this.#error(
        'ERR_KV_LIST',
        'LIST',
        400,
        `Invalid key_count_limit of ${limit}. Please specify an integer greater than 0.`,
      );
    }
    if (limit > KV_LIMITS.maxListKeys) {
      throw this.#error(
        'ERR_KV_LIST',
        'LIST',
        400,
        `Invalid key_count_limit of ${limit}. Please specify an integer less than ${KV_LIMITS.maxListKeys}.`,
      );
    }
    const prefix =
      opts.prefix === undefined || opts.prefix === null
        ? ''
        : stringArg(where, 'prefix', opts.prefix);
    if (utf8Length(prefix) > KV_LIMITS.maxKeyBytes) {
      throw this.#error(
        'ERR_KV_LIST',
        'LIST',
        414,
        `UTF-8 encoded length of ${utf8Length(prefix)} exceeds key length limit of ${KV_LIMITS.maxKeyBytes}.`,
      );
    }
    let after: string | null = null;
    if (opts.cursor !== undefined && opts.cursor !== null && opts.cursor !== '') {
      const c = stringArg(where, 'cursor', opts.cursor);
      after = Buffer.from(c, 'base64url').toString('utf8');
      if (Buffer.from(after, 'utf8').toString('base64url') !== c) {
        throw this.#error(
          'ERR_KV_LIST',
          'LIST',
          400,
          `Invalid cursor ${JSON.stringify(c)}. Pass the cursor a previous list() returned.`,
        );
      }
    }
    const params = [
      prefix,
      `${prefix}\u{10FFFF}`,
      prefix.length,
      prefix,
      after ?? '',
      this.#nowSeconds(),
      limit + 1,
    ];
    const { rows } = await this.db.query<{
      key: string;
      expiration: number | null;
      metadata: string | null;
    }>({
      sql: `SELECT key, expiration, metadata FROM _kv
            WHERE key >= ? AND key < ? AND substr(key, 1, ?) = ? AND key > ?
              AND (expiration IS NULL OR expiration > ?)
            ORDER BY key LIMIT ?`,
      params,
    });
    const complete = rows.length <= limit;
    const page = complete ? rows : rows.slice(0, limit);
    const keys = page.map((r) => {
      const k: KvListKey = { name: r.key };
      if (r.expiration !== null) k.expiration = r.expiration;
      if (r.metadata !== null) k.metadata = JSON.parse(r.metadata);
      return k;
    });
    const result: KvListResult = { keys, list_complete: complete, cacheStatus: null };
    const last = page[page.length - 1];
    if (!complete && last) result.cursor = Buffer.from(last.key, 'utf8').toString('base64url');
    return result;
  }

  /** Drops expired rows (reads already skip them; this keeps the file from growing). */
  async sweep(): Promise<void> {
    await this.db.query({
      sql: 'DELETE FROM _kv WHERE expiration IS NOT NULL AND expiration <= ?',
      params: [this.#nowSeconds()],
    });
  }
}
