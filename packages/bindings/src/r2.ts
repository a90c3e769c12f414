import { createHash } from 'node:crypto';
import type { BlobStore, SqlDatabase } from './engine/types.js';
import { BindingError, type BindingErrorCode } from './errors.js';
import {
  describe,
  numberOpt,
  optionsArg,
  stringArg,
  toBytes,
  utf8Length,
} from './internal/args.js';
import { newId } from './internal/ids.js';
import { R2Multipart } from './r2-multipart.js';
import {
  R2_LIMITS,
  type R2HttpMetadata,
  type R2ListResult,
  type R2ObjectBodyData,
  type R2ObjectData,
} from './r2-types.js';

const SCHEMA = `CREATE TABLE IF NOT EXISTS _r2_objects (
  key TEXT PRIMARY KEY NOT NULL,
  blob_id TEXT NOT NULL,
  version TEXT NOT NULL,
  size INTEGER NOT NULL,
  etag TEXT NOT NULL,
  uploaded INTEGER NOT NULL,
  http_metadata TEXT NOT NULL,
  custom_metadata TEXT NOT NULL,
  checksums TEXT NOT NULL,
  storage_class TEXT NOT NULL
) WITHOUT ROWID`;

/** What a commit writes besides the body. */
interface CommitMeta {
  etag: string;
  checksums: { md5?: string };
  httpMetadata: R2HttpMetadata;
  customMetadata: Record<string, string>;
  storageClass: string;
}

/** A row of the objects table. */
export interface R2Row {
  key: string;
  blob_id: string;
  version: string;
  size: number;
  etag: string;
  uploaded: number;
  http_metadata: string;
  custom_metadata: string;
  checksums: string;
  storage_class: string;
}

const HTTP_FIELDS = [
  'contentType',
  'contentLanguage',
  'contentDisposition',
  'contentEncoding',
  'cacheControl',
] as const;

/** One R2 bucket: rows in SQLite, bodies as immutable blob files named by random ids. */
export class R2Bucket {
  readonly multipart: R2Multipart;
  private constructor(
    readonly binding: string,
    readonly db: SqlDatabase,
    readonly blobs: BlobStore,
    readonly now: () => number,
  ) {
    this.multipart = new R2Multipart(this);
  }

  static async open(
    binding: string,
    db: SqlDatabase,
    blobs: BlobStore,
    now: () => number = Date.now,
  ): Promise<R2Bucket> {
    await db.exec(SCHEMA);
    await R2Multipart.migrate(db);
    return new R2Bucket(binding, db, blobs, now);
  }

  /** An error as R2 words it: `R2 binding 'B': put: <text> (<code>)`. */
  error(code: BindingErrorCode, op: string, text: string, r2Code?: number): BindingError {
    return new BindingError(
      code,
      `R2 binding '${this.binding}': ${op}: ${text}${r2Code ? ` (${r2Code})` : ''}`,
    );
  }

  key(op: string, value: unknown): string {
    const key = stringArg(`R2 binding '${this.binding}' ${op}()`, 'key', value);
    if (utf8Length(key) > R2_LIMITS.maxKeyBytes)
      throw this.error('ERR_R2_KEY', op, 'The specified object name is not valid.', 10020);
    return key;
  }

  httpMetadata(op: string, value: unknown): R2HttpMetadata {
    const o = optionsArg(`R2 binding '${this.binding}' ${op}() httpMetadata`, value);
    const out: R2HttpMetadata = {};
    for (const f of HTTP_FIELDS) {
      if (o[f] !== undefined && o[f] !== null)
        out[f] = stringArg(`R2 binding '${this.binding}' ${op}()`, `httpMetadata.${f}`, o[f]);
    }
    if (o.cacheExpiry !== undefined && o.cacheExpiry !== null) {
      const d = o.cacheExpiry instanceof Date ? o.cacheExpiry : new Date(String(o.cacheExpiry));
      if (Number.isNaN(d.getTime()))
        throw this.error('ERR_R2_METADATA', op, 'httpMetadata.cacheExpiry is not a date');
      out.cacheExpiry = d;
    }
    return out;
  }

  customMetadata(op: string, value: unknown): Record<string, string> {
    const o = optionsArg(`R2 binding '${this.binding}' ${op}() customMetadata`, value);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'string' ? v : String(v);
    const size = Object.entries(out).reduce((n, [k, v]) => n + utf8Length(k) + utf8Length(v), 0);
    if (size > R2_LIMITS.maxMetadataBytes) {
      throw this.error(
        'ERR_R2_METADATA',
        op,
        'Your metadata headers exceed the maximum allowed metadata size.',
        10012,
      );
    }
    return out;
  }

  toObject(row: R2Row, include = true): R2ObjectData {
    const http = JSON.parse(row.http_metadata) as R2HttpMetadata & { cacheExpiry?: string };
    const httpMetadata: R2HttpMetadata = {
      ...http,
      ...(http.cacheExpiry ? { cacheExpiry: new Date(http.cacheExpiry) } : {}),
    };
    return {
      key: row.key,
      version: row.version,
      size: row.size,
      etag: row.etag,
      httpEtag: `"${row.etag}"`,
      uploaded: new Date(row.uploaded),
      httpMetadata: include ? httpMetadata : {},
      customMetadata: include ? (JSON.parse(row.custom_metadata) as Record<string, string>) : {},
      checksums: JSON.parse(row.checksums) as { md5?: string },
      storageClass: row.storage_class,
    };
  }

  async row(key: string): Promise<R2Row | null> {
    const { rows } = await this.db.query<R2Row>({
      sql: 'SELECT * FROM _r2_objects WHERE key = ?',
      params: [key],
    });
    return rows[0] ?? null;
  }

  /** True when the conditions of `onlyIf` hold for `row` (a missing object fails etagMatches). */
  conditionsHold(op: string, onlyIf: unknown, row: R2Row | null): boolean {
    if (onlyIf === undefined || onlyIf === null) return true;
    const o = optionsArg(`R2 binding '${this.binding}' ${op}() onlyIf`, onlyIf);
    const etags = (v: unknown): string[] =>
      (Array.isArray(v) ? v : [v])
        .flatMap((e) => String(e).split(','))
        .map((e) => e.trim().replace(/^W\//, '').replace(/^"|"$/g, ''));
    const date = (v: unknown): number =>
      v instanceof Date ? v.getTime() : new Date(String(v)).getTime();
    const match = o.etagMatches ?? o['if-match'];
    const noneMatch = o.etagDoesNotMatch ?? o['if-none-match'];
    const before = o.uploadedBefore ?? o['if-unmodified-since'];
    const after = o.uploadedAfter ?? o['if-modified-since'];
    if (match !== undefined && match !== null) {
      const list = etags(match);
      if (!row || !(list.includes('*') || list.includes(row.etag))) return false;
    }
    if (noneMatch !== undefined && noneMatch !== null && row) {
      const list = etags(noneMatch);
      if (list.includes('*') || list.includes(row.etag)) return false;
    }
    // As in R2 (and HTTP): a date condition is ignored when its etag counterpart was given.
    if (before !== undefined && before !== null && row && (match === undefined || match === null)) {
      if (Math.floor(row.uploaded / 1000) * 1000 > date(before)) return false;
    }
    if (
      after !== undefined &&
      after !== null &&
      row &&
      (noneMatch === undefined || noneMatch === null)
    ) {
      if (Math.floor(row.uploaded / 1000) * 1000 <= date(after)) return false;
    }
    return true;
  }

  /** `head(key)` -> object or null. */
  async head(key: unknown): Promise<R2ObjectData | null> {
    const row = await this.row(this.key('head', key));
    return row ? this.toObject(row) : null;
  }

  /** `get(key, {range, onlyIf})` -> object with body, object without body (onlyIf failed), or null. */
  async get(key: unknown, options?: unknown): Promise<R2ObjectBodyData | R2ObjectData | null> {
    const k = this.key('get', key);
    const opts = optionsArg(`R2 binding '${this.binding}' get()`, options);
    const row = await this.row(k);
    if (!row) return null;
    const object = this.toObject(row);
    if (!this.conditionsHold('get', opts.onlyIf, row)) return object;
    const range = this.#range(opts.range, row.size);
    const body = await this.blobs.get(row.blob_id, range);
    if (body === null)
      throw this.error(
        'ERR_STATE_IO',
        'get',
        `the body of ${JSON.stringify(k)} is missing from the state directory`,
      );
    return { ...object, range: range ?? { offset: 0, length: row.size }, body };
  }

  #range(value: unknown, size: number): { offset: number; length: number } | undefined {
    if (value === undefined || value === null) return undefined;
    const o = optionsArg(`R2 binding '${this.binding}' get() range`, value);
    const where = `R2 binding '${this.binding}' get()`;
    const offset = numberOpt(where, 'range.offset', o.offset);
    const length = numberOpt(where, 'range.length', o.length);
    const suffix = numberOpt(where, 'range.suffix', o.suffix);
    const bad = () =>
      this.error('ERR_R2_RANGE', 'get', 'The requested range is not satisfiable.', 10039);
    if (suffix !== undefined) {
      if (offset !== undefined || length !== undefined || suffix < 0) throw bad();
      const n = Math.min(suffix, size);
      return { offset: size - n, length: n };
    }
    const off = offset ?? 0;
    if (off < 0 || (length !== undefined && length < 0) || (off > size && size > 0)) throw bad();
    return { offset: off, length: Math.min(length ?? size - off, size - off) };
  }

  /** `put(key, value, options)` -> the object, or null when `onlyIf` failed. */
  async put(key: unknown, value: unknown, options?: unknown): Promise<R2ObjectData | null> {
    const k = this.key('put', key);
    const bytes = value === null || value === undefined ? new Uint8Array(0) : toBytes(value);
    if (bytes === null) {
      throw new BindingError(
        'ERR_BINDING_ARGS',
        `R2 binding '${this.binding}' put(): the value must be a string, bytes or None, got ${describe(value)}`,
      );
    }
    const opts = optionsArg(`R2 binding '${this.binding}' put()`, options);
    const httpMetadata = this.httpMetadata('put', opts.httpMetadata);
    const customMetadata = this.customMetadata('put', opts.customMetadata);
    const md5 = createHash('md5').update(bytes).digest('hex');
    if (opts.md5 !== undefined && opts.md5 !== null) {
      const want =
        typeof opts.md5 === 'string'
          ? opts.md5.toLowerCase()
          : Buffer.from(toBytes(opts.md5) ?? []).toString('hex');
      if (want !== md5)
        throw this.error(
          'ERR_R2_CHECKSUM',
          'put',
          'The Content-MD5 you specified did not match what we received.',
          10037,
        );
    }
    if (opts.onlyIf !== undefined && !this.conditionsHold('put', opts.onlyIf, await this.row(k)))
      return null;
    return this.commit(k, [bytes], {
      etag: md5,
      checksums: { md5 },
      httpMetadata,
      customMetadata,
      storageClass: typeof opts.storageClass === 'string' ? opts.storageClass : 'Standard',
    });
  }

  /** Writes the body blob, then the row in one statement, then drops the old body. */
  async commit(key: string, parts: readonly Uint8Array[], meta: CommitMeta): Promise<R2ObjectData> {
    const blobId = newId();
    await this.blobs.put(blobId, parts);
    return this.#commitBlob(
      key,
      blobId,
      parts.reduce((n, p) => n + p.byteLength, 0),
      meta,
    );
  }

  /** As {@link commit}, with the body made on disk from existing blobs (multipart parts). */
  async commitJoined(
    key: string,
    sources: readonly string[],
    size: number,
    meta: CommitMeta,
  ): Promise<R2ObjectData> {
    const blobId = newId();
    await this.blobs.concat(blobId, sources);
    return this.#commitBlob(key, blobId, size, meta);
  }

  async #commitBlob(
    key: string,
    blobId: string,
    size: number,
    meta: CommitMeta,
  ): Promise<R2ObjectData> {
    const old = await this.row(key);
    const row: R2Row = {
      key,
      blob_id: blobId,
      version: newId(),
      size,
      etag: meta.etag,
      uploaded: this.now(),
      http_metadata: JSON.stringify(meta.httpMetadata),
      custom_metadata: JSON.stringify(meta.customMetadata),
      checksums: JSON.stringify(meta.checksums),
      storage_class: meta.storageClass,
    };
    try {
      await this.db.query({
        sql: `INSERT OR REPLACE INTO _r2_objects (key, blob_id, version, size, etag, uploaded, http_metadata, custom_metadata, checksums, storage_class)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        params: [
          row.key,
          row.blob_id,
          row.version,
          row.size,
          row.etag,
          row.uploaded,
          row.http_metadata,
          row.custom_metadata,
          row.checksums,
          row.storage_class,
        ],
      });
    } catch (error) {
      await this.blobs.delete(blobId);
      throw error;
    }
    if (old) await this.blobs.delete(old.blob_id);
    return this.toObject(row);
  }

  /** `delete(key | keys)`; missing keys are not an error. */
  async delete(keys: unknown): Promise<null> {
    const list = Array.isArray(keys) ? keys : [keys];
    if (list.length > R2_LIMITS.maxDeleteKeys)
      throw this.error(
        'ERR_R2_KEY',
        'delete',
        `You can delete at most ${R2_LIMITS.maxDeleteKeys} keys at once.`,
      );
    for (const key of list) {
      const k = this.key('delete', key);
      const row = await this.row(k);
      if (!row) continue;
      await this.db.query({
        sql: 'DELETE FROM _r2_objects WHERE key = ? AND version = ?',
        params: [k, row.version],
      });
      await this.blobs.delete(row.blob_id);
    }
    return null;
  }

  /** `list({prefix, delimiter, cursor, limit, startAfter, include})`. */
  async list(options?: unknown): Promise<R2ListResult> {
    const where = `R2 binding '${this.binding}' list()`;
    const o = optionsArg(where, options);
    const limit = numberOpt(where, 'limit', o.limit) ?? R2_LIMITS.maxListLimit;
    if (!Number.isInteger(limit) || limit < 1 || limit > R2_LIMITS.maxListLimit) {
      throw this.error(
        'ERR_R2_LIST',
        'list',
        `MaxKeys params must be positive integer <= ${R2_LIMITS.maxListLimit}.`,
        10022,
      );
    }
    const prefix = o.prefix == null ? '' : stringArg(where, 'prefix', o.prefix);
    const delimiter =
      o.delimiter == null || o.delimiter === '' ? null : stringArg(where, 'delimiter', o.delimiter);
    const include = Array.isArray(o.include) ? o.include.map(String) : [];
    const withMeta = include.includes('httpMetadata') || include.includes('customMetadata');
    let after = o.startAfter == null ? '' : stringArg(where, 'startAfter', o.startAfter);
    if (o.cursor != null && o.cursor !== '') {
      const c = stringArg(where, 'cursor', o.cursor);
      const decoded = Buffer.from(c, 'base64url').toString('utf8');
      if (Buffer.from(decoded, 'utf8').toString('base64url') !== c)
        throw this.error('ERR_R2_LIST', 'list', 'The cursor is not valid.', 10025);
      if (decoded > after) after = decoded;
    }
    const objects: R2ObjectData[] = [];
    const delimitedPrefixes: string[] = [];
    let lastCursor = '';
    let truncated = false;
    const upper = `${prefix}\u{10FFFF}`;
    outer: for (;;) {
      const { rows } = await this.db.query<R2Row>({
        sql: `SELECT * FROM _r2_objects WHERE key > ? AND key >= ? AND key < ? AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?`,
        params: [after, prefix, upper, prefix.length, prefix, limit + 1],
      });
      if (rows.length === 0) break;
      for (const row of rows) {
        if (objects.length + delimitedPrefixes.length === limit) {
          truncated = true;
          break outer;
        }
        const rest = row.key.slice(prefix.length);
        const at = delimiter === null ? -1 : rest.indexOf(delimiter);
        if (at !== -1 && delimiter !== null) {
          const group = prefix + rest.slice(0, at + delimiter.length);
          delimitedPrefixes.push(group);
          lastCursor = `${group}\u{10FFFF}`;
          after = lastCursor;
          continue outer;
        }
        objects.push(this.toObject(row, withMeta));
        lastCursor = row.key;
        after = row.key;
      }
      if (rows.length <= limit) break;
    }
    const result: R2ListResult = { objects, truncated, delimitedPrefixes };
    if (truncated) result.cursor = Buffer.from(lastCursor, 'utf8').toString('base64url');
    return result;
  }
}
