import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { BindingError } from '../errors.js';

const MAGIC = 'SQLite format 3\0';

/** A corrupt-state error that names the file and says how to recover. */
export function corruptState(file: string, what: string, cause?: unknown): BindingError {
  return new BindingError('ERR_STATE_CORRUPT', `state file ${file} ${what}`, {
    cause,
    userError: true,
    hint: `restore ${file} from a backup, or move it away to start that store empty (its data is then gone)`,
  });
}

/**
 * Checks the header of an existing SQLite file before it is opened, so a truncated or
 * overwritten state file is a clear error naming the file, never a silently empty store.
 * A missing or 0-byte file is a new store (SQLite writes nothing until the first commit).
 */
export function checkSqliteFile(file: string): void {
  if (!existsSync(file)) return;
  const size = statSync(file).size;
  if (size === 0) return;
  if (size < 100)
    throw corruptState(file, `is truncated (${size} bytes, less than a SQLite header)`);
  const header = Buffer.alloc(100);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1', 0, 16) !== MAGIC)
    throw corruptState(file, 'is not a SQLite database (bad header)');
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pageCount = header.readUInt32BE(28);
  const counterValid = header.readUInt32BE(24) === header.readUInt32BE(92);
  // A checkpoint cut short (a full disk, a kill) can leave the main file shorter than its new
  // header says while the WAL still holds every page: SQLite redoes the checkpoint on open.
  const wal = `${file}-wal`;
  const walHolds = existsSync(wal) && statSync(wal).size > 0;
  if (counterValid && pageCount > 0 && size < pageCount * pageSize && !walHolds) {
    throw corruptState(
      file,
      `is truncated (${size} bytes, its header says ${pageCount * pageSize})`,
    );
  }
}

/** True for SQLite's own "this file is damaged" errors. */
export function isCorruptionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT_VTAB';
}
