import type { Bundle } from '../bundle.js';
import { IsolateError } from '../errors.js';
import type { WorkerLimitOverrides } from '../limits.js';
import { PYODIDE_VERSION } from '../version.js';
import { loadImage } from './images.js';
import { packMountSet, sdkMountSet } from './mounts.js';
import type { HeapImage, MountSet } from './protocol.js';

/** A bundle made ready for isolates of this process: shared memory, decoded once. */
export interface PreparedBundle {
  name: string;
  mainModule: string;
  vars: Record<string, string>;
  /** The worker's own limits from its manifest (override the launcher's). */
  limits: WorkerLimitOverrides;
  files: MountSet;
  sdkFiles: MountSet;
  /** The dedicated snapshot's heap, or none (the bundle was built without a snapshot). */
  image: HeapImage | undefined;
}

const prepared = new WeakMap<Bundle, PreparedBundle>();

/**
 * Decodes a bundle's snapshot (checksums verified once) and packs its files into shared memory,
 * once per bundle object: every cold start after that copies nothing but the heap itself.
 */
export function prepareBundle(bundle: Bundle): PreparedBundle {
  const hit = prepared.get(bundle);
  if (hit) return hit;
  const { manifest } = bundle;
  if (manifest.pyodideVersion !== PYODIDE_VERSION) {
    throw new IsolateError(
      'ERR_BUNDLE_VERSION',
      `bundle ${manifest.name} was built for Pyodide ${manifest.pyodideVersion}, this runtime runs ${PYODIDE_VERSION}`,
      { userError: true },
    );
  }
  const out: PreparedBundle = {
    name: manifest.name,
    mainModule: manifest.mainModule,
    vars: manifest.vars,
    limits: manifest.limits ?? {},
    files: packMountSet(bundle.files),
    sdkFiles: sdkMountSet(),
    image: bundle.snapshot
      ? loadImage(bundle.snapshot, `bundle ${manifest.name}`).image
      : undefined,
  };
  prepared.set(bundle, out);
  return out;
}
