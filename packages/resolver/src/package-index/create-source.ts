// Picks the right source for an index URL or path.
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Downloader } from '../download.js';
import { ResolverError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PackageSource } from '../source.js';
import { SimpleIndexSource } from './simple-index.js';
import { WheelDirSource } from './wheel-dir.js';

export interface CreateSourceOptions {
  name?: string;
  downloader: Downloader;
  /** Default: the downloader's offline flag. */
  offline?: boolean;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
  /** Resolves relative paths (default: the current directory). */
  baseDir?: string;
}

/**
 * A source for `location`: an http(s) simple index, a `file://` simple index, or a flat
 * directory of wheels (a path or file:// URL whose directory holds distribution files).
 * @example createSource('https://pypi.org/simple/', { downloader })
 */
export function createSource(location: string, options: CreateSourceOptions): PackageSource {
  const common = {
    downloader: options.downloader,
    ...(options.name ? { name: options.name } : {}),
  };
  if (/^https?:\/\//i.test(location)) {
    return new SimpleIndexSource({
      url: location,
      ...common,
      ...(options.offline !== undefined ? { offline: options.offline } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }
  let dir: string;
  if (location.startsWith('file:')) dir = fileURLToPath(location);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ResolverError(
      'ERR_INDEX_CONFIG',
      `index "${location}" uses an unsupported scheme; use https://, http://, file:// or a directory path`,
    );
  } else
    dir = isAbsolute(location) ? location : resolve(options.baseDir ?? process.cwd(), location);
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(dir);
  } catch (cause) {
    throw new ResolverError(
      'ERR_INDEX_CONFIG',
      `index "${location}" is not a readable directory (${dir})`,
      { cause },
    );
  }
  const flat = entries.some((e) => /\.(whl|tar\.gz|zip)$/i.test(e));
  if (flat) return new WheelDirSource({ dir, ...common });
  return new SimpleIndexSource({
    url: pathToFileURL(dir).href,
    ...common,
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
