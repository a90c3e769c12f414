import { createHash } from 'node:crypto';
import { sdkFiles } from './paths.js';
import type { MountSet } from './protocol.js';

/** Packs files into one SharedArrayBuffer: isolates mount views into it, nobody copies. */
export function packMountSet(files: Iterable<[string, Uint8Array]>): MountSet {
  const list = [...files];
  const total = list.reduce((n, [, b]) => n + b.length, 0);
  const data = new Uint8Array(new SharedArrayBuffer(Math.max(total, 1)));
  const entries: [string, number, number][] = [];
  let offset = 0;
  for (const [path, bytes] of list) {
    data.set(bytes, offset);
    entries.push([path, offset, bytes.length]);
    offset += bytes.length;
  }
  return { data, entries };
}

let sdkHash: string | undefined;
/** SHA-256 (hex, 12 digits) of the SDK's files: baselines import the SDK, so they depend on it. */
export function sdkDigest(): string {
  if (!sdkHash) {
    const h = createHash('sha256');
    for (const f of sdkFiles()) h.update(f.path).update('\0').update(f.bytes);
    sdkHash = h.digest('hex').slice(0, 12);
  }
  return sdkHash;
}

let sdk: MountSet | undefined;
/** The SDK's Python files as one shared mount set, packed once per process. */
export function sdkMountSet(): MountSet {
  sdk ??= {
    ...packMountSet(sdkFiles().map((f) => [f.path, f.bytes] as [string, Uint8Array])),
    id: sdkDigest(),
  };
  return sdk;
}
