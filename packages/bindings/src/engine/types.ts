/**
 * The storage-engine interface every binding is written against. It is SQL plus blobs and
 * nothing else, and every method is async, so an engine that talks to another machine
 * (a replicated SQLite, a SQL server) can back the same bindings later without changes to them.
 */

/** A value SQL takes or gives back. Blobs are Uint8Array; big integers are bigint. */
export type SqlValue = null | number | bigint | string | Uint8Array;

/** One SQL statement with its positional parameters. */
export interface SqlStatement {
  sql: string;
  params?: readonly SqlValue[];
}

/** What one statement did. `rows` are objects keyed by column, or arrays when `raw` was asked. */
export interface SqlResult<Row = Record<string, SqlValue>> {
  columns: string[];
  rows: Row[];
  /** Rows changed by an INSERT/UPDATE/DELETE (0 for a read). */
  changes: number;
  lastInsertRowid: number;
  /** True when the statement can write (not a plain read). */
  wrote: boolean;
}

/** Options for one query. */
export interface QueryOptions {
  /** Rows as arrays in column order instead of objects. */
  raw?: boolean;
}

/** One logical database: a KV namespace, a D1 database, an R2 bucket's index, the queues. */
export interface SqlDatabase {
  /** Where it lives, for error messages (a file path for the SQLite engine). */
  readonly location: string;
  query<Row = Record<string, SqlValue>>(
    statement: SqlStatement,
    options?: QueryOptions,
  ): Promise<SqlResult<Row>>;
  /** All statements in one transaction: all of them happen or none does. */
  batch(statements: readonly SqlStatement[], options?: QueryOptions): Promise<SqlResult<unknown>[]>;
  /** Runs a script of several statements (no parameters); returns how many ran. */
  exec(sql: string): Promise<{ count: number }>;
  /** Bytes the database takes on disk (D1 reports it as `size_after`). */
  size(): Promise<number>;
}

/** Immutable blobs by id (R2 object bodies). A blob is whole once `put` resolves. */
export interface BlobStore {
  put(id: string, parts: readonly Uint8Array[]): Promise<void>;
  /** Bytes [offset, offset + length) of the blob; null when it does not exist. */
  get(id: string, range?: { offset: number; length: number }): Promise<Uint8Array | null>;
  delete(id: string): Promise<void>;
  /** A new blob `id` whose bytes are the `sources` blobs one after another (multipart completion). */
  concat(id: string, sources: readonly string[]): Promise<void>;
}

/** A storage engine: named databases and blob stores under one state root. */
export interface StorageEngine {
  /** Opens (creating when missing) the database at a logical path such as `['kv', 'ns-id']`. */
  database(path: readonly string[]): Promise<SqlDatabase>;
  /** The blob store at a logical path such as `['r2', 'bucket']`. */
  blobs(path: readonly string[]): BlobStore;
  close(): Promise<void>;
}
