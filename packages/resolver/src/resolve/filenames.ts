// Which version a distribution file belongs to, from its name alone (wheel names per the
// binary distribution format; sdists as `{name}-{version}.tar.gz|.zip`).
import { normalizeName } from '../requirement.js';

/** The parts of a distribution file name the resolver groups and explains by. */
export interface DistFilename {
  kind: 'wheel' | 'sdist';
  version: string;
  /** `py3-none-any` for wheels; empty for sdists. */
  tag: string;
}

const SDIST_EXT = /\.(?:tar\.gz|zip|tar\.bz2|tar\.xz|tgz|tar)$/i;

/** Parses a file name of `project`, or null when it is not one of its distributions. */
export function parseDistFilename(filename: string, project: string): DistFilename | null {
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) return null;
    if (normalizeName(parts[0]!) !== project) return null;
    return { kind: 'wheel', version: parts[1]!, tag: parts.slice(-3).join('-') };
  }
  const ext = SDIST_EXT.exec(filename);
  if (!ext) return null;
  const stem = filename.slice(0, ext.index);
  // The name part may itself hold dashes: the version is what follows the normalised name.
  for (let i = stem.indexOf('-'); i > 0; i = stem.indexOf('-', i + 1)) {
    if (normalizeName(stem.slice(0, i)) === project) {
      return { kind: 'sdist', version: stem.slice(i + 1), tag: '' };
    }
  }
  return null;
}
