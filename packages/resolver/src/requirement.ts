import { ResolverError } from './errors.js';

/** A PEP 508 requirement, split into its parts. */
export interface Requirement {
  /** The name as written. */
  name: string;
  /** PEP 503 normalised name. */
  key: string;
  extras: string[];
  /** Version specifier, e.g. `>=2,<3` (empty for any). */
  specifier: string;
  /** Environment marker expression, unevaluated (empty for none). */
  marker: string;
  url?: string;
}

/** PEP 503 normalisation: lowercase, runs of `-_.` become `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*/;

/**
 * Parses a PEP 508 requirement string.
 * @example parseRequirement('httpx[http2]>=0.27; python_version >= "3.12"')
 */
export function parseRequirement(text: string): Requirement {
  const fail = (why: string): never => {
    throw new ResolverError('ERR_REQUIREMENT', `invalid requirement "${text}": ${why}`);
  };
  const [head = '', ...markerParts] = text.split(';');
  const marker = markerParts.join(';').trim();
  const m = NAME.exec(head);
  if (!m) return fail('it must start with a project name');
  let rest = head.slice(m[0].length);
  let extras: string[] = [];
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) fail('unclosed [ in extras');
    extras = rest
      .slice(1, end)
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map(normalizeName);
    rest = rest.slice(end + 1).trim();
  }
  let url: string | undefined;
  if (rest.startsWith('@')) {
    url = rest.slice(1).trim();
    if (!url) fail('empty URL after @');
    rest = '';
  }
  const specifier = rest.replace(/^\(|\)$/g, '').replace(/\s+/g, '');
  if (specifier && !/^(?:(?:===|==|!=|~=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+,?)+$/.test(specifier)) {
    fail(`"${rest}" is not a version specifier (e.g. >=1.2,<2)`);
  }
  const name = m[1]!;
  return {
    name,
    key: normalizeName(name),
    extras,
    specifier: specifier.replace(/,$/, ''),
    marker,
    ...(url ? { url } : {}),
  };
}
