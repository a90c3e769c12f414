// Which indexes a sync searches, in which order, with which strategy: uv's settings read from
// explicit options, then UV_* / PIP_* environment variables, then pyproject.toml.
import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { issuePath } from '@pyworkers/common';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { ResolverError } from './errors.js';
import { normalizeName } from './requirement.js';
import type { IndexStrategy } from './resolve/types.js';

/** PyPI's simple index: the default index when nothing replaces it. */
export const PYPI_URL = 'https://pypi.org/simple';

/** One configured index. */
export interface IndexDefinition {
  /** `[[tool.uv.index]].name`, or a name made from the URL. */
  name: string;
  url: string;
  /** `format = "flat"`: a directory or page of files rather than a simple index. */
  format: 'simple' | 'flat';
  /** Where the setting came from. */
  origin: 'option' | 'env' | 'pyproject' | 'builtin';
}

/** The indexes and strategy a sync uses. */
export interface IndexConfig {
  /** Searched for every project, highest priority first; the default index is last. */
  indexes: IndexDefinition[];
  /** `explicit = true` indexes: used only by projects pinned to them. */
  explicit: IndexDefinition[];
  /** Project (normalised name) to index name, from `[tool.uv.sources]`. */
  pins: Map<string, string>;
  strategy: IndexStrategy;
}

/** Input of {@link resolveIndexConfig}. */
export interface IndexConfigInput {
  /** pyproject.toml text (or its parsed document). */
  pyproject?: string | Record<string, unknown>;
  /** Path of the pyproject.toml, for messages. */
  pyprojectPath?: string;
  /** `--index-url`: replaces the default index. */
  indexUrl?: string;
  /** `--extra-index-url` (repeatable): searched before the default index, in order. */
  extraIndexUrls?: string[];
  indexStrategy?: IndexStrategy;
  /** Environment (default: none; callers pass `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where relative index paths from options and env resolve (default: the current directory). */
  cwd?: string;
}

const STRATEGIES = ['first-index', 'unsafe-first-match', 'unsafe-best-match'] as const;

const indexEntry = z
  .object({
    name: z.string().min(1).optional(),
    url: z.string().min(1),
    default: z.boolean().default(false),
    explicit: z.boolean().default(false),
    format: z.enum(['simple', 'flat']).default('simple'),
  })
  .passthrough();

const toolUv = z
  .object({
    index: z.array(indexEntry).default([]),
    sources: z.record(z.string(), z.unknown()).default({}),
    'index-strategy': z.enum(STRATEGIES).optional(),
    'index-url': z.string().min(1).optional(),
    'extra-index-url': z.array(z.string().min(1)).default([]),
  })
  .passthrough();

function fail(message: string): never {
  throw new ResolverError('ERR_INDEX_CONFIG', message);
}

/**
 * An index location as a URL. Paths (`./wheels`, `/srv/simple`) are allowed as uv allows them:
 * relative ones resolve against `baseDir` (the pyproject's folder for pyproject entries).
 */
function checkUrl(url: string, where: string, baseDir: string): string {
  const isPath = !/^[a-z][a-z0-9+.-]*:/i.test(url) || /^[a-z]:[\\/]/i.test(url);
  if (isPath) {
    const dir = resolvePath(baseDir, url);
    if (!existsSync(dir)) {
      fail(
        `${where}: "${url}" is neither a URL (e.g. https://pypi.org/simple) nor an existing directory (${dir})`,
      );
    }
    return pathToFileURL(dir).href.replace(/\/+$/, '');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(
      `${where}: "${url}" is not a URL (expected e.g. https://pypi.org/simple, file:///path/to/index or a directory path)`,
    );
  }
  if (!['http:', 'https:', 'file:'].includes(parsed.protocol)) {
    fail(`${where}: "${url}" must be an http(s):// or file:// URL, or a directory path`);
  }
  return url.replace(/\/+$/, '');
}

function nameFor(url: string): string {
  const u = new URL(url);
  return u.protocol === 'file:' ? url : `${u.host}${u.pathname}`.replace(/\/+$/, '');
}

function split(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

function parseStrategy(value: string, where: string): IndexStrategy {
  if ((STRATEGIES as readonly string[]).includes(value)) return value as IndexStrategy;
  return fail(`${where}: unknown index strategy "${value}" (use one of ${STRATEGIES.join(', ')})`);
}

function readToolUv(input: IndexConfigInput): z.infer<typeof toolUv> {
  const file = input.pyprojectPath ?? 'pyproject.toml';
  let doc: Record<string, unknown> = {};
  if (typeof input.pyproject === 'string') {
    try {
      doc = parseToml(input.pyproject) as Record<string, unknown>;
    } catch (cause) {
      throw new ResolverError(
        'ERR_PYPROJECT',
        `${file} is not valid TOML: ${(cause as Error).message.split('\n')[0]}`,
        { cause },
      );
    }
  } else if (input.pyproject) doc = input.pyproject;
  const tool = (doc.tool ?? {}) as Record<string, unknown>;
  const parsed = toolUv.safeParse(tool.uv ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = `[tool.uv]${issuePath(issue.path)}`;
    fail(`${file}: ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Works out the indexes of a sync the way uv does. Priority, highest first: `--extra-index-url`
 * options (else `UV_INDEX`, `UV_EXTRA_INDEX_URL`, `PIP_EXTRA_INDEX_URL`), then the non-default
 * `[[tool.uv.index]]` entries in file order (and `[tool.uv].extra-index-url`), then the default
 * index: `--index-url`, else `UV_DEFAULT_INDEX`, `UV_INDEX_URL`, `PIP_INDEX_URL`, else the
 * `default = true` entry (or `[tool.uv].index-url`), else PyPI. The strategy: option, else
 * `UV_INDEX_STRATEGY`, else `[tool.uv].index-strategy`, else `unsafe-best-match`.
 * @example resolveIndexConfig({ pyproject: text, env: process.env }).indexes.map((i) => i.url)
 */
export function resolveIndexConfig(input: IndexConfigInput): IndexConfig {
  const env = input.env ?? {};
  const file = input.pyprojectPath ?? 'pyproject.toml';
  const uv = readToolUv(input);
  const cwd = input.cwd ?? process.cwd();
  const projectDir = input.pyprojectPath ? dirname(resolvePath(cwd, input.pyprojectPath)) : cwd;

  const named: IndexDefinition[] = [];
  const explicit: IndexDefinition[] = [];
  let pyprojectDefault: IndexDefinition | undefined;
  uv.index.forEach((entry, i) => {
    const where = `${file}: [[tool.uv.index]][${i}]`;
    const url = checkUrl(entry.url, `${where}.url`, projectDir);
    const def: IndexDefinition = {
      name: entry.name ?? nameFor(url),
      url,
      format: entry.format,
      origin: 'pyproject',
    };
    if ([...named, ...explicit].some((d) => d.name === def.name)) {
      fail(`${where}: the index name "${def.name}" is used twice; give each index its own name`);
    }
    if (entry.explicit) explicit.push(def);
    else if (entry.default) pyprojectDefault ??= def;
    else named.push(def);
  });
  for (const [i, url] of uv['extra-index-url'].entries()) {
    const u = checkUrl(url, `${file}: [tool.uv].extra-index-url[${i}]`, projectDir);
    named.push({ name: nameFor(u), url: u, format: 'simple', origin: 'pyproject' });
  }
  if (!pyprojectDefault && uv['index-url']) {
    const u = checkUrl(uv['index-url'], `${file}: [tool.uv].index-url`, projectDir);
    pyprojectDefault = { name: nameFor(u), url: u, format: 'simple', origin: 'pyproject' };
  }

  const extra: IndexDefinition[] = [];
  if (input.extraIndexUrls && input.extraIndexUrls.length > 0) {
    for (const url of input.extraIndexUrls) {
      const u = checkUrl(url, '--extra-index-url', cwd);
      extra.push({ name: nameFor(u), url: u, format: 'simple', origin: 'option' });
    }
  } else {
    for (const item of split(env.UV_INDEX)) {
      const eq = /^([A-Za-z0-9][\w.-]*)=(.+)$/.exec(item);
      const u = checkUrl(eq ? eq[2]! : item, 'UV_INDEX', cwd);
      extra.push({ name: eq ? eq[1]! : nameFor(u), url: u, format: 'simple', origin: 'env' });
    }
    for (const [variable, value] of [
      ['UV_EXTRA_INDEX_URL', env.UV_EXTRA_INDEX_URL],
      ['PIP_EXTRA_INDEX_URL', env.PIP_EXTRA_INDEX_URL],
    ] as const) {
      for (const item of split(value)) {
        const u = checkUrl(item, variable, cwd);
        extra.push({ name: nameFor(u), url: u, format: 'simple', origin: 'env' });
      }
    }
  }

  let defaultIndex: IndexDefinition;
  if (input.indexUrl) {
    const u = checkUrl(input.indexUrl, '--index-url', cwd);
    defaultIndex = { name: nameFor(u), url: u, format: 'simple', origin: 'option' };
  } else {
    const fromEnv = (['UV_DEFAULT_INDEX', 'UV_INDEX_URL', 'PIP_INDEX_URL'] as const).find((v) =>
      env[v]?.trim(),
    );
    if (fromEnv) {
      const u = checkUrl(env[fromEnv]!.trim(), fromEnv, cwd);
      defaultIndex = { name: nameFor(u), url: u, format: 'simple', origin: 'env' };
    } else {
      defaultIndex = pyprojectDefault ?? {
        name: 'pypi',
        url: PYPI_URL,
        format: 'simple',
        origin: 'builtin',
      };
    }
  }

  // An index listed twice keeps its highest-priority place.
  const indexes: IndexDefinition[] = [];
  for (const d of [...extra, ...named, defaultIndex]) {
    if (!indexes.some((x) => x.url === d.url)) indexes.push(d);
  }

  const pins = new Map<string, string>();
  const known = [...indexes, ...explicit];
  for (const [pkg, value] of Object.entries(uv.sources)) {
    const where = `${file}: [tool.uv.sources].${pkg}`;
    const index =
      value && typeof value === 'object' && !Array.isArray(value)
        ? (value as Record<string, unknown>).index
        : undefined;
    if (typeof index !== 'string') {
      fail(
        `${where}: only index sources ({ index = "name" }) are supported; git, path, URL and workspace sources are not (publish the package to an index instead)`,
      );
    }
    if (!known.some((d) => d.name === index)) {
      fail(
        `${where}: no index named "${index}"; define it with [[tool.uv.index]] name = "${index}" (known: ${known.map((d) => d.name).join(', ') || 'none'})`,
      );
    }
    pins.set(normalizeName(pkg), index);
  }

  const strategy = input.indexStrategy
    ? parseStrategy(input.indexStrategy, '--index-strategy')
    : env.UV_INDEX_STRATEGY?.trim()
      ? parseStrategy(env.UV_INDEX_STRATEGY.trim(), 'UV_INDEX_STRATEGY')
      : (uv['index-strategy'] ?? 'unsafe-best-match');

  return { indexes, explicit, pins, strategy };
}
