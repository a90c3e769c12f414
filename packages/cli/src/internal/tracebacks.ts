import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { WORKER_DIR } from '@pyworkers/isolate';

const ISOLATE_ROOT = `${WORKER_DIR}/`;
const PATH_IN_ISOLATE = new RegExp(`${ISOLATE_ROOT.replaceAll('/', '\\/')}([^\\s"',:)]+)`, 'g');

/** A worker's files on disk: its source root and its vendored packages. */
export interface SourceMap {
  sourceRoot: string;
  projectDir: string;
}

/**
 * Rewrites paths inside the isolate (`/session/worker/entry.py`) to the user's files on disk
 * (`/home/me/app/src/entry.py`), so a traceback points at something an editor can open.
 */
export function mapIsolatePaths(text: string, source: SourceMap): string {
  if (!text.includes(ISOLATE_ROOT)) return text;
  return text.replace(PATH_IN_ISOLATE, (whole, rel: string) => {
    for (const root of [source.sourceRoot, join(source.projectDir, 'python_modules')]) {
      const full = join(root, rel);
      if (existsSync(full)) return full;
    }
    return whole;
  });
}
