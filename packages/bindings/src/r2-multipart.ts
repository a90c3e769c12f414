import { createHash } from 'node:crypto';
import type { SqlDatabase } from './engine/types.js';
import { BindingError } from './errors.js';
import { describe, numberOpt, optionsArg, stringArg, toBytes } from './internal/args.js';
import { newId } from './internal/ids.js';
import type { R2Bucket } from './r2.js';
import { R2_LIMITS, type R2ObjectData } from './r2-types.js';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS _r2_uploads (
    upload_id TEXT PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL,
    created INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS _r2_parts (
    upload_id TEXT NOT NULL REFERENCES _r2_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    md5 TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  )`,
];

interface PartRow {
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  md5: string;
}

/** Multipart uploads of one bucket: parts are blobs until completion joins them into one. */
export class R2Multipart {
  constructor(readonly bucket: R2Bucket) {}

  static async migrate(db: SqlDatabase): Promise<void> {
    for (const sql of SCHEMA) await db.exec(sql);
  }

  async #upload(
    op: string,
    key: string,
    uploadId: unknown,
  ): Promise<{ http_metadata: string; custom_metadata: string }> {
    const id = stringArg(`R2 binding '${this.bucket.binding}' ${op}()`, 'uploadId', uploadId);
    const { rows } = await this.bucket.db.query<{ http_metadata: string; custom_metadata: string }>(
      {
        sql: 'SELECT http_metadata, custom_metadata FROM _r2_uploads WHERE upload_id = ? AND key = ?',
        params: [id, key],
      },
    );
    const row = rows[0];
    if (!row)
      throw this.bucket.error(
        'ERR_R2_MULTIPART',
        op,
        'The specified multipart upload does not exist.',
        10024,
      );
    return row;
  }

  /** `createMultipartUpload(key, {httpMetadata, customMetadata})` -> `{key, uploadId}`. */
  async create(key: unknown, options?: unknown): Promise<{ key: string; uploadId: string }> {
    const k = this.bucket.key('createMultipartUpload', key);
    const opts = optionsArg(`R2 binding '${this.bucket.binding}' createMultipartUpload()`, options);
    const http = this.bucket.httpMetadata('createMultipartUpload', opts.httpMetadata);
    const custom = this.bucket.customMetadata('createMultipartUpload', opts.customMetadata);
    const uploadId = newId();
    await this.bucket.db.query({
      sql: 'INSERT INTO _r2_uploads (upload_id, key, http_metadata, custom_metadata, created) VALUES (?, ?, ?, ?, ?)',
      params: [uploadId, k, JSON.stringify(http), JSON.stringify(custom), this.bucket.now()],
    });
    return { key: k, uploadId };
  }

  /** `uploadPart(key, uploadId, partNumber, value)` -> `{partNumber, etag}`. */
  async uploadPart(
    key: unknown,
    uploadId: unknown,
    partNumber: unknown,
    value: unknown,
  ): Promise<{ partNumber: number; etag: string }> {
    const k = this.bucket.key('uploadPart', key);
    await this.#upload('uploadPart', k, uploadId);
    const n = numberOpt(
      `R2 binding '${this.bucket.binding}' uploadPart()`,
      'partNumber',
      partNumber,
    );
    if (n === undefined || !Number.isInteger(n) || n < 1 || n > R2_LIMITS.maxPartNumber) {
      throw this.bucket.error(
        'ERR_R2_MULTIPART',
        'uploadPart',
        `Part number must be an integer from 1 to ${R2_LIMITS.maxPartNumber}.`,
        10023,
      );
    }
    const bytes = toBytes(value);
    if (bytes === null) {
      throw new BindingError(
        'ERR_BINDING_ARGS',
        `R2 binding '${this.bucket.binding}' uploadPart(): the value must be a string or bytes, got ${describe(value)}`,
      );
    }
    const blobId = newId();
    await this.bucket.blobs.put(blobId, [bytes]);
    const etag = newId();
    const { rows: old } = await this.bucket.db.query<PartRow>({
      sql: 'SELECT blob_id FROM _r2_parts WHERE upload_id = ? AND part_number = ?',
      params: [String(uploadId), n],
    });
    await this.bucket.db.query({
      sql: 'INSERT OR REPLACE INTO _r2_parts (upload_id, part_number, blob_id, size, etag, md5) VALUES (?, ?, ?, ?, ?, ?)',
      params: [
        String(uploadId),
        n,
        blobId,
        bytes.byteLength,
        etag,
        createHash('md5').update(bytes).digest('hex'),
      ],
    });
    for (const o of old) await this.bucket.blobs.delete(o.blob_id);
    return { partNumber: n, etag };
  }

  async #parts(uploadId: string): Promise<PartRow[]> {
    const { rows } = await this.bucket.db.query<PartRow>({
      sql: 'SELECT part_number, blob_id, size, etag, md5 FROM _r2_parts WHERE upload_id = ? ORDER BY part_number',
      params: [uploadId],
    });
    return rows;
  }

  async #drop(uploadId: string, keepBlobs: ReadonlySet<string> = new Set()): Promise<void> {
    const parts = await this.#parts(uploadId);
    await this.bucket.db.batch([
      { sql: 'DELETE FROM _r2_parts WHERE upload_id = ?', params: [uploadId] },
      { sql: 'DELETE FROM _r2_uploads WHERE upload_id = ?', params: [uploadId] },
    ]);
    for (const p of parts) if (!keepBlobs.has(p.blob_id)) await this.bucket.blobs.delete(p.blob_id);
  }

  /** `completeMultipartUpload(key, uploadId, [{partNumber, etag}])` -> the object. */
  async complete(key: unknown, uploadId: unknown, parts: unknown): Promise<R2ObjectData> {
    const k = this.bucket.key('completeMultipartUpload', key);
    const upload = await this.#upload('completeMultipartUpload', k, uploadId);
    const id = String(uploadId);
    if (!Array.isArray(parts) || parts.length === 0) {
      throw this.bucket.error(
        'ERR_R2_MULTIPART',
        'completeMultipartUpload',
        'There was a problem with the multipart upload.',
        10048,
      );
    }
    const stored = new Map((await this.#parts(id)).map((p) => [p.part_number, p]));
    const chosen: PartRow[] = [];
    for (const [i, p] of parts.entries()) {
      const o = optionsArg(
        `R2 binding '${this.bucket.binding}' completeMultipartUpload() part ${i + 1}`,
        p,
      );
      const part = stored.get(Number(o.partNumber));
      if (!part || part.etag !== String(o.etag)) {
        throw this.bucket.error(
          'ERR_R2_MULTIPART',
          'completeMultipartUpload',
          'One or more of the specified parts could not be found.',
          10025,
        );
      }
      chosen.push(part);
    }
    chosen.sort((a, b) => a.part_number - b.part_number);
    for (const [i, p] of chosen.entries()) {
      const last = i === chosen.length - 1;
      if (!last && (p.size < R2_LIMITS.minPartBytes || p.size !== chosen[0]?.size)) {
        throw this.bucket.error(
          'ERR_R2_MULTIPART',
          'completeMultipartUpload',
          'There was a problem with the multipart upload: every part but the last must be the same size, at least 5 MiB.',
          10048,
        );
      }
    }
    // Parts are joined on disk, never all in memory; the etag is R2's md5-of-md5s plus the count.
    const md5s = Buffer.concat(chosen.map((p) => Buffer.from(p.md5, 'hex')));
    const etag = `${createHash('md5').update(md5s).digest('hex')}-${chosen.length}`;
    const object = await this.bucket.commitJoined(
      k,
      chosen.map((p) => p.blob_id),
      chosen.reduce((n, p) => n + p.size, 0),
      {
        etag,
        checksums: {},
        httpMetadata: JSON.parse(upload.http_metadata),
        customMetadata: JSON.parse(upload.custom_metadata),
        storageClass: 'Standard',
      },
    );
    await this.#drop(id);
    return object;
  }

  /** `abortMultipartUpload(key, uploadId)`. */
  async abort(key: unknown, uploadId: unknown): Promise<null> {
    const k = this.bucket.key('abortMultipartUpload', key);
    await this.#upload('abortMultipartUpload', k, uploadId);
    await this.#drop(String(uploadId));
    return null;
  }
}
