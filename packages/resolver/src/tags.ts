// Wheel compatibility tags for the pinned Pyodide: pure wheels (`py3-none-any`, `py314-none-any`,
// `cp314-none-any`, `py2.py3-none-any`) and wheels built for its Emscripten platform and ABI.
// The platform tag of Pyodide 314 wheels is `pyemscripten_2026_0_wasm32` (PEP 783, as the names in
// pyodide-lock.json show); the older `pyodide_<abi>_wasm32` and `emscripten_<x_y_z>_wasm32`
// spellings of the same ABI are accepted too, after it.
import type { PyodideLockInfo } from './markers.js';

/** A parsed wheel file name (binary distribution format). */
export interface WheelFilename {
  /** The name as written in the file name (escaped: `_` for `-`). */
  name: string;
  version: string;
  build?: string;
  /** The expanded tag triples `python-abi-platform`. */
  tags: string[];
}

const SDIST = /\.(tar\.gz|tar\.bz2|tar\.xz|tgz|zip|tar)$/i;

/** Parses `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`; null when it is not one. */
export function parseWheelFilename(filename: string): WheelFilename | null {
  if (!filename.endsWith('.whl')) return null;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [name, version] = parts as [string, string];
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  if (!name || !version || !py || !abi || !plat) return null;
  const tags: string[] = [];
  for (const p of py.split('.')) {
    for (const a of abi.split('.')) for (const pl of plat.split('.')) tags.push(`${p}-${a}-${pl}`);
  }
  return { name, version, ...(parts.length === 6 ? { build: parts[2]! } : {}), tags };
}

/** The platform tags of the pinned Pyodide, best first. */
export function pyodidePlatformTags(info: PyodideLockInfo): string[] {
  const out = [
    `pyemscripten_${info.abi_version}_${info.arch}`,
    `pyodide_${info.abi_version}_${info.arch}`,
  ];
  if (/^emscripten_\d+_\d+_\d+$/.test(info.platform)) out.push(`${info.platform}_${info.arch}`);
  return out;
}

/**
 * Every tag the pinned Pyodide accepts, most preferred first (the order of
 * `packaging.tags.sys_tags()`: the interpreter's ABI, abi3, none; then generic Python tags).
 */
export function pyodideTags(info: PyodideLockInfo): string[] {
  const [major = 3, minor = 0] = info.python.split('.').map(Number);
  const cp = `cp${major}${minor}`;
  const platforms = pyodidePlatformTags(info);
  const tags: string[] = [];
  for (const p of platforms) tags.push(`${cp}-${cp}-${p}`);
  for (const p of platforms) tags.push(`${cp}-abi3-${p}`);
  for (const p of platforms) tags.push(`${cp}-none-${p}`);
  for (let m = minor - 1; m >= 2; m--)
    for (const p of platforms) tags.push(`cp${major}${m}-abi3-${p}`);
  const pys = [`py${major}${minor}`, `py${major}`];
  for (let m = minor - 1; m >= 0; m--) pys.push(`py${major}${m}`);
  for (const py of pys) for (const p of platforms) tags.push(`${py}-none-${p}`);
  tags.push(`${cp}-none-any`);
  for (const py of pys) tags.push(`${py}-none-any`);
  return tags;
}

/** The verdict on one distribution file. */
export type TagCheck = { ok: true; rank: number } | { ok: false; reason: string };

/** Which files the pinned Pyodide can install, and how much it prefers each. */
export interface TagPolicy {
  /** Supported tags, best first. */
  readonly tags: readonly string[];
  /** Lower is better; null when the file cannot be installed. */
  rank(filename: string): number | null;
  /** Like `rank`, with a reason a user can act on when the file is rejected. */
  check(filename: string): TagCheck;
}

function describeRejection(wheel: WheelFilename, info: PyodideLockInfo): string {
  const [major = 3, minor = 0] = info.python.split('.').map(Number);
  const cp = `cp${major}${minor}`;
  const ourPlatforms = new Set(pyodidePlatformTags(info));
  const reasons = new Set<string>();
  for (const tag of wheel.tags) {
    const [py = '', abi = '', plat = ''] = tag.split('-');
    const wasm = /^(pyemscripten|pyodide)_(\d+_\d+)_(\w+)$/.exec(plat);
    const ems = /^emscripten_(\d+_\d+_\d+)_(\w+)$/.exec(plat);
    if (plat !== 'any' && !ourPlatforms.has(plat)) {
      if (wasm)
        reasons.add(`built for Pyodide ABI ${wasm[2]} (this Pyodide is ${info.abi_version})`);
      else if (ems) {
        reasons.add(
          `built for Emscripten ${ems[1]!.replace(/_/g, '.')} (this Pyodide uses ${info.platform.replace(/^emscripten_/, '').replace(/_/g, '.')})`,
        );
      } else reasons.add(`built for a native platform (${plat}), not Pyodide`);
      continue;
    }
    const pyMatch = /^(py|cp)(\d)(\d*)$/.exec(py);
    if (!pyMatch) {
      reasons.add(`built for another Python implementation (${py})`);
      continue;
    }
    const pm = Number(pyMatch[2]);
    const pn = pyMatch[3] ? Number(pyMatch[3]) : undefined;
    if (pm !== major) {
      reasons.add(`built for Python ${pm} only`);
      continue;
    }
    if (pn !== undefined && pn > minor) {
      reasons.add(`built for Python ${pm}.${pn} (Pyodide has ${major}.${minor})`);
      continue;
    }
    if (abi !== 'none' && abi !== 'abi3' && abi !== cp) {
      reasons.add(`built for the ${abi} ABI (Pyodide runs ${cp})`);
      continue;
    }
    reasons.add(`tag ${tag} is not supported by Pyodide`);
  }
  return [...reasons].join('; ');
}

/**
 * Builds the tag policy of a Pyodide from its lock's `info`.
 * @example createTagPolicy(lock.info).check('numpy-2.2.0-cp314-cp314-manylinux_2_17_x86_64.whl')
 */
export function createTagPolicy(info: PyodideLockInfo): TagPolicy {
  const tags = pyodideTags(info);
  const index = new Map(tags.map((t, i) => [t, i]));
  const check = (filename: string): TagCheck => {
    if (!filename.endsWith('.whl')) {
      if (SDIST.test(filename)) {
        return {
          ok: false,
          reason: 'source distribution (pyworkers installs wheels only, it never builds)',
        };
      }
      if (filename.endsWith('.egg')) return { ok: false, reason: 'legacy .egg format' };
      return { ok: false, reason: 'not a wheel' };
    }
    const wheel = parseWheelFilename(filename);
    if (!wheel) return { ok: false, reason: 'not a valid wheel file name' };
    let best: number | undefined;
    for (const t of wheel.tags) {
      const i = index.get(t);
      if (i !== undefined && (best === undefined || i < best)) best = i;
    }
    if (best !== undefined) return { ok: true, rank: best };
    return { ok: false, reason: describeRejection(wheel, info) };
  };
  return {
    tags,
    check,
    rank: (filename) => {
      const c = check(filename);
      return c.ok ? c.rank : null;
    },
  };
}
