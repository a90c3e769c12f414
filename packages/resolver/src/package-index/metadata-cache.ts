import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@pyworkers/common';
import { z } from 'zod';
import type { Downloader } from '../download.js';
import { ResolverError } from '../errors.js';
import { normalizeName } from '../requirement.js';
import type { CoreMetadata, DistFile } from '../source.js';
import { parseCoreMetadata } from '../wheel/metadata.js';
import { openWheel } from '../wheel/wheel.js';

const cached = z.object({
  name: z.string(),
  version: z.string(),
  requiresDist: z.array(z.string()),
  requiresPython: z.string().optional(),
  providesExtra: z.array(z.string()),
});

async function readCache(path: string): Promise<CoreMetadata | undefined> {
  try {
    const parsed = cached.safeParse(JSON.parse(await readFile(path, 'utf8')));
    return parsed.success ? (parsed.data as CoreMetadata) : undefined;
  } catch {
    return undefined;
  }
}

async function writeCache(path: string, meta: CoreMetadata): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(meta));
}

/**
 * Core metadata of `file`: the PEP 658/714 file when offered (hash-checked), else METADATA read
 * from the downloaded wheel. Checks the name (and version) match what the index listed.
 */
export async function loadMetadata(
  file: DistFile,
  project: string,
  downloader: Downloader,
): Promise<CoreMetadata> {
  const sha = file.hashes.sha256;
  const cachePath = sha
    ? join(downloader.cacheDir, 'metadata', sha.slice(0, 2), `${sha}.json`)
    : undefined;
  if (cachePath) {
    const hit = await readCache(cachePath);
    if (hit) return hit;
  }
  let meta: CoreMetadata;
  if (file.metadataUrl) {
    const bytes = await downloader.fetchBytes(
      file.metadataUrl,
      file.metadataHashes ?? {},
      `the metadata of ${file.filename}`,
    );
    meta = parseCoreMetadata(bytes.toString('utf8'), `${file.filename}.metadata`);
  } else if (file.filename.endsWith('.whl')) {
    const got = await downloader.download({ file, name: project, version: file.version ?? '' });
    meta = openWheel(await readFile(got.path), file.filename).metadata();
  } else {
    throw new ResolverError(
      'ERR_WHEEL',
      `${file.filename} is not a wheel; pyworkers never builds source distributions, so it cannot read its metadata`,
    );
  }
  if (normalizeName(meta.name) !== normalizeName(project)) {
    throw new ResolverError(
      'ERR_INDEX_RESPONSE',
      `${file.filename} (listed for ${project} by ${file.source}) says its name is ${meta.name}`,
      { userError: false },
    );
  }
  if (cachePath) await writeCache(cachePath, meta);
  return meta;
}
