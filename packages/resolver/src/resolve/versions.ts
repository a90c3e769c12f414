// PEP 440 helpers for the resolver, cached: a resolve asks the same (version, specifier)
// questions thousands of times and @renovatebot/pep440 re-parses on every call.
import { compare, explain, satisfies } from '@renovatebot/pep440';

const parsed = new Map<string, ReturnType<typeof explain>>();
const matchCache = new Map<string, boolean>();

function info(version: string): ReturnType<typeof explain> {
  let v = parsed.get(version);
  if (v === undefined) {
    v = explain(version);
    parsed.set(version, v);
  }
  return v;
}

/** True when `version` is a valid PEP 440 version. */
export function isValidVersion(version: string): boolean {
  return info(version) !== null;
}

/** Pre-releases and dev releases count as pre-releases (as in `packaging`). */
export function isPrerelease(version: string): boolean {
  const v = info(version);
  return v !== null && (v.is_prerelease || v.is_devrelease);
}

/** A key equal for versions PEP 440 calls equal (`1.0` and `1.0.0`, `1.0RC1` and `1.0rc1`). */
export function versionKey(version: string): string {
  const v = info(version);
  if (!v) return version;
  const release = [...v.release];
  while (release.length > 1 && release.at(-1) === 0) release.pop();
  // At run time `post` and `dev` are numbers (the typings say arrays); 0 is a real value.
  const num = (x: unknown): string => String(Array.isArray(x) ? x.at(-1) : x);
  const pre = v.pre ? v.pre.join('') : '';
  const post = v.post != null ? `.post${num(v.post)}` : '';
  const dev = v.dev != null ? `.dev${num(v.dev)}` : '';
  const local = v.local ? `+${v.local}` : '';
  return `${v.epoch ? `${v.epoch}!` : ''}${release.join('.')}${pre}${post}${dev}${local}`;
}

/** Newest first. */
export function compareVersionsDesc(a: string, b: string): number {
  return compare(b, a);
}

/**
 * Whether `version` satisfies a specifier set such as `>=1.2,<2`, pre-releases included
 * (the caller decides separately whether pre-releases are allowed at all).
 */
export function matchesSpecifier(version: string, specifier: string): boolean {
  if (!specifier) return true;
  const key = `${version}\u0000${specifier}`;
  let hit = matchCache.get(key);
  if (hit === undefined) {
    hit = satisfies(version, specifier, { prereleases: true });
    matchCache.set(key, hit);
  }
  return hit;
}

const PRE_IN_SPEC = /(?:^|[\d.])(?:a|b|c|rc|alpha|beta|pre|preview|dev)\d*/i;

/** True when some clause names a pre-release (`>=2.0b1`), which opts that project into pre-releases. */
export function specifierAllowsPrereleases(specifier: string): boolean {
  return specifier
    .split(',')
    .map((c) => c.replace(/^\s*(?:===|==|!=|~=|<=|>=|<|>)\s*/, ''))
    .some((v) => !v.endsWith('.*') && PRE_IN_SPEC.test(v) && isPrerelease(v));
}

/** True when the specifier pins exactly this version (`==1.0` or `===1.0`, no wildcard). */
export function pinsExactly(specifier: string, version: string): boolean {
  return specifier.split(',').some((clause) => {
    const m = /^\s*(===|==)\s*([^*\s]+)\s*$/.exec(clause);
    if (!m) return false;
    return m[1] === '===' ? m[2] === version : versionKey(m[2]!) === versionKey(version);
  });
}
