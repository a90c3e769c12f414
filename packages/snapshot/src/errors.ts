import {
  type ErrorCodeTable,
  isPyworkersError,
  PyworkersError,
  type PyworkersErrorOptions,
} from '@pyworkers/common';

/** Codes a {@link SnapshotError} can carry. */
export type SnapshotErrorCode =
  | 'ERR_SNAPSHOT_MAGIC'
  | 'ERR_SNAPSHOT_VERSION'
  | 'ERR_SNAPSHOT_TRUNCATED'
  | 'ERR_SNAPSHOT_CORRUPT'
  | 'ERR_SNAPSHOT_REFERENCE'
  | 'ERR_SNAPSHOT_TOO_LARGE'
  | 'ERR_SNAPSHOT_META'
  | 'ERR_SNAPSHOT_CODEC';

const REBUILD = 'build the snapshot again from its project';

// A file that is not a snapshot, or a damaged one, is the user's to replace; a wrong reference,
// a heap over the limit or bad metadata handed to the encoder are mistakes of the caller.
const CODES: ErrorCodeTable<SnapshotErrorCode> = {
  ERR_SNAPSHOT_MAGIC: { user: true, hint: `this is not a pyworkers snapshot file; ${REBUILD}` },
  ERR_SNAPSHOT_VERSION: {
    user: true,
    hint: `the snapshot was written by another version of @pyworkers/snapshot; ${REBUILD}`,
  },
  ERR_SNAPSHOT_TRUNCATED: { user: true, hint: `the file was cut short; ${REBUILD}` },
  ERR_SNAPSHOT_CORRUPT: { user: true, hint: `the file is damaged; ${REBUILD}` },
  ERR_SNAPSHOT_CODEC: {
    user: true,
    hint: 'use a codec this Node.js has (none, gzip, brotli; zstd needs Node >= 22.15), or upgrade @pyworkers/snapshot',
  },
  ERR_SNAPSHOT_REFERENCE: { user: false },
  ERR_SNAPSHOT_TOO_LARGE: { user: false },
  ERR_SNAPSHOT_META: { user: false },
};

/** The one error class of `@pyworkers/snapshot`: every bad input ends in one of these. */
export class SnapshotError extends PyworkersError<SnapshotErrorCode> {
  override readonly name = 'SnapshotError';
  constructor(code: SnapshotErrorCode, message: string, options?: PyworkersErrorOptions) {
    super(CODES, code, message, options);
  }
}

/** Whether `err` is a {@link SnapshotError}, from any copy of this package or across IPC. */
export function isSnapshotError(err: unknown): err is SnapshotError {
  return isPyworkersError(err, 'SnapshotError');
}
