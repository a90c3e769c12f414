import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { DistFile } from '../source.js';
import { versionFromFilename } from './project-page.js';

/**
 * A distribution file on local disk as a source lists it: a `file:` URL and its SHA-256 read
 * from the bytes (a directory states no hashes of its own).
 */
export async function localDistFile(
  path: string,
  filename: string,
  project: string,
  source: string,
): Promise<DistFile> {
  const version = versionFromFilename(filename, project);
  return {
    filename,
    url: pathToFileURL(path).href,
    hashes: {
      sha256: createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
    },
    yanked: false,
    source,
    ...(version ? { version } : {}),
  };
}
