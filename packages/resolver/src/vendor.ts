// Installing locked wheels into python_modules/ (laid out like site-packages). Every wheel is
// checked against its SHA-256 and every file against the wheel's RECORD; the tree is built in a
// temp dir beside the target and renamed into place, so an interrupted sync never leaves a
// half-written tree; a marker holding the hash of the locked set makes a repeated sync a no-op.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ResolverError } from './errors.js';
import { createLimiter } from './internal/limit.js';
import { type Logger, silentLogger } from './logger.js';
import { normalizeName } from './requirement.js';
import { openWheel, verifiedFiles } from './wheel/wheel.js';

/** One locked wheel, already on disk (see `Downloader`). */
export interface InstallWheel {
  name: string;
  version: string;
  filename: string;
  /** The wheel file. */
  path: string;
  /** Its expected SHA-256 (hex); the file is checked against it before unpacking. */
  sha256: string;
}

export interface InstallOptions {
  /** The python_modules/ directory. */
  target: string;
  wheels: InstallWheel[];
  logger?: Logger;
}

export interface InstallResult {
  /** False when the marker showed the tree already holds exactly this set (nothing written). */
  installed: boolean;
  packages: number;
  /** Files written (0 when not installed). */
  files: number;
  ms: number;
}

/** The marker file inside python_modules/. */
export const INSTALL_MARKER = '.pyworkers-installed.json';
const MARKER_FORMAT = 1;
// Leftovers of an interrupted sync older than this are removed on the next one.
const STALE_MS = 10 * 60 * 1000;

/** The hash of a locked set: what the marker records. Order-independent. */
export function lockedSetHash(wheels: Pick<InstallWheel, 'name' | 'version' | 'sha256'>[]): string {
  const lines = wheels
    .map((w) => `${normalizeName(w.name)}==${w.version} sha256:${w.sha256.toLowerCase()}`)
    .sort();
  return createHash('sha256')
    .update(`pyworkers-install/${MARKER_FORMAT}\n${lines.join('\n')}`)
    .digest('hex');
}

/** The set hash the marker records, when the tree still holds every top-level entry it lists. */
async function readMarker(target: string): Promise<string | undefined> {
  try {
    const raw = JSON.parse(await readFile(join(target, INSTALL_MARKER), 'utf8')) as {
      format?: unknown;
      set?: unknown;
      top?: unknown;
    };
    if (raw.format !== MARKER_FORMAT || typeof raw.set !== 'string' || !Array.isArray(raw.top)) {
      return undefined;
    }
    // A tree someone pruned by hand is not up to date, whatever the marker says.
    const present = new Set(await readdir(target));
    return raw.top.every((t) => typeof t === 'string' && present.has(t)) ? raw.set : undefined;
  } catch {
    return undefined;
  }
}

async function removeStale(target: string, logger: Logger): Promise<void> {
  const parent = dirname(target);
  const base = basename(target);
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const n of names) {
    if (!n.startsWith(`${base}.tmp-`) && !n.startsWith(`${base}.old-`)) continue;
    const p = join(parent, n);
    const st = await stat(p).catch(() => undefined);
    if (st && (n.startsWith(`${base}.old-`) || Date.now() - st.mtimeMs > STALE_MS)) {
      logger.debug({ path: p }, 'removing the leftovers of an interrupted sync');
      await rm(p, { recursive: true, force: true });
    }
  }
}

/**
 * Installs `wheels` into `target` (python_modules/), replacing what was there.
 * @example await installWheels({ target: 'python_modules', wheels })
 */
export async function installWheels(options: InstallOptions): Promise<InstallResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const target = options.target;
  const set = lockedSetHash(options.wheels);
  if ((await readMarker(target)) === set) {
    return {
      installed: false,
      packages: options.wheels.length,
      files: 0,
      ms: performance.now() - started,
    };
  }
  await mkdir(dirname(target), { recursive: true });
  await removeStale(target, logger);
  const tmp = `${target}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(tmp);
  let files = 0;
  try {
    const owner = new Map<string, string>();
    const top = new Set<string>();
    const dirs = new Set<string>([tmp]);
    const limit = createLimiter(32);
    for (const w of [...options.wheels].sort((a, b) => a.name.localeCompare(b.name))) {
      const bytes = await readFile(w.path).catch((cause: unknown) => {
        throw new ResolverError(
          'ERR_INSTALL',
          `cannot read ${w.filename} at ${w.path}: ${(cause as Error).message}`,
          {
            cause,
            userError: false,
          },
        );
      });
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== w.sha256.toLowerCase()) {
        throw new ResolverError(
          'ERR_HASH_MISMATCH',
          `${w.filename} (${w.name} ${w.version}) at ${w.path} has sha256 ${got}, but the lock says ${w.sha256}; delete it from the cache and sync again`,
          { userError: false },
        );
      }
      const verified = verifiedFiles(openWheel(bytes, w.filename));
      for (const f of verified) {
        const key = f.path.toLowerCase();
        const prev = owner.get(key);
        if (prev) {
          throw new ResolverError(
            'ERR_INSTALL',
            `${w.name} ${w.version} and ${prev} both contain ${f.path}; they cannot be installed together`,
          );
        }
        owner.set(key, `${w.name} ${w.version}`);
        top.add(f.path.split('/')[0]!);
      }
      // Directories first (shallowest first), then the files in parallel so fs calls overlap in
      // libuv's thread pool (measured 0.96-1.28x vs one await per file on this loaded box).
      const newDirs = [...new Set(verified.map((f) => dirname(join(tmp, f.path))))]
        .filter((d) => !dirs.has(d))
        .sort((a, b) => a.length - b.length);
      for (const d of newDirs) {
        if (dirs.has(d)) continue;
        await mkdir(d, { recursive: true });
        for (let p = d; p.length > tmp.length && !dirs.has(p); p = dirname(p)) dirs.add(p);
      }
      await Promise.all(
        verified.map((f) =>
          limit(() =>
            writeFile(join(tmp, f.path), f.data, {
              mode: f.entry.mode !== undefined && f.entry.mode & 0o111 ? 0o755 : 0o644,
            }),
          ),
        ),
      );
      files += verified.length;
    }
    const marker = {
      format: MARKER_FORMAT,
      set,
      top: [...top].sort(),
      packages: options.wheels.map((w) => ({ name: w.name, version: w.version, sha256: w.sha256 })),
    };
    await writeFile(join(tmp, INSTALL_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    if (err instanceof ResolverError) throw err;
    throw new ResolverError(
      'ERR_INSTALL',
      `cannot build ${target}: ${(err as Error).message} (is the disk full, or do two wheels clash on a file and a directory of the same name?)`,
      { cause: err, userError: false },
    );
  }

  // Swap: the old tree moves aside, the new one takes its name, the old one goes.
  const old = `${target}.old-${randomBytes(6).toString('hex')}`;
  const hadOld = await rename(target, old).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw new ResolverError('ERR_INSTALL', `cannot replace ${target}: ${e.message}`, {
        cause: e,
        userError: false,
      });
    },
  );
  try {
    await rename(tmp, target);
  } catch (cause) {
    if (hadOld) await rename(old, target).catch(() => {});
    await rm(tmp, { recursive: true, force: true });
    throw new ResolverError(
      'ERR_INSTALL',
      `cannot move the new tree into ${target}: ${(cause as Error).message}`,
      {
        cause,
        userError: false,
      },
    );
  }
  if (hadOld) await rm(old, { recursive: true, force: true });
  logger.debug({ target, packages: options.wheels.length, files }, 'installed');
  return {
    installed: true,
    packages: options.wheels.length,
    files,
    ms: performance.now() - started,
  };
}
