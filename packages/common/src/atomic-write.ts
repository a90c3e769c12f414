import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

// A temp file beside the target (same file system, so the rename is atomic), unique per call
// so two writers of one path never share a temp file.
const tempFor = (path: string): string =>
  `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

/**
 * Writes a file so that readers see the old bytes or the new ones, never half: a temp file in
 * the same directory, then a rename. Creates the directory; removes the temp file on failure.
 * @example await writeFileAtomic('.pyworkers/app.pwb', bytes);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    throw cause;
  }
}

/** {@link writeFileAtomic} for callers that cannot await (config edits in the CLI). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (cause) {
    rmSync(tmp, { force: true });
    throw cause;
  }
}
