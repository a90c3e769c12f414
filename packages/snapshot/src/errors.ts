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

/** The one error class of `@pyworkers/snapshot`: every bad input ends in one of these. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
