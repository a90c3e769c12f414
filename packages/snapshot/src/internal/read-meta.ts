import { SnapshotError } from '../errors.js';
import type { Header } from './format.js';

/** Reads the metadata JSON (not yet schema-checked). */
export function readMetaJson(bytes: Uint8Array, header: Header): unknown {
  const raw = bytes.subarray(header.metaOffset, header.metaOffset + header.metaLength);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (cause) {
    throw new SnapshotError('ERR_SNAPSHOT_META', 'snapshot metadata is not valid UTF-8 JSON', {
      cause,
    });
  }
}
