import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { issuePath } from '@pyworkers/common';
import type { WorkerBindings } from '@pyworkers/isolate';
import type { Route } from '@pyworkers/router';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { declaredNames } from './config/binding-refs.js';
import {
  BindingConflict,
  type BindingsConfig,
  type BindingsOverride,
  bindingsOverrideSchema,
  type DeclarationSource,
  resolveBindings,
  withOverrides,
} from './config/bindings.js';
import { checkCompatibility } from './config/compatibility.js';
import {
  limitsOverrideSchema,
  limitsSchema,
  routesFromWrangler,
  toolSchema,
  WRANGLER_IGNORED_SILENTLY,
  WRANGLER_KEYS,
  wranglerSchema,
} from './config/schema.js';
import { CliError } from './errors.js';
import { jsonKeyLine, parseJsonc } from './internal/jsonc.js';
import { lineOf, type PathSegment } from './internal/toml-scan.js';

/** A worker project as read from its directory (after flags and env overrides). */
export interface Project {
  dir: string;
  name: string;
  /** Path of the entry module relative to `dir`, e.g. `src/entry.py`. */
  main: string;
  vars: Record<string, string>;
  routes: Route[];
  limits: { requestTimeoutMs: number; memoryMb: number };
  /** `pyodide-<version>` or `python-<version>`, when the project asks for one. */
  compatibility?: string;
  compatibilityFlags: string[];
  compatibilityDate?: string;
  /** `[project].dependencies` as written. */
  dependencies: string[];
  pyprojectPath?: string;
  wranglerPath?: string;
  /** Bindings, crons, queue consumers and assets from wrangler and [tool.pyworkers]. */
  bindings: WorkerBindings;
  /** Where each binding was declared: `file:line`, for build errors. */
  bindingSources: Map<string, string>;
  /** Every binding name the config files declare, including kinds pyworkers does not run. */
  declaredNames: Set<string>;
  /** Config the runtime does not act on, one warning each. */
  warnings: string[];
}

/**
 * Settings that win over the config files (flags, then `PYWORKERS_*` env vars). Every key of
 * `[tool.pyworkers]` has one.
 */
export interface ProjectOverrides {
  name?: string;
  main?: string;
  /** Merged over the file's vars, key by key. */
  vars?: Record<string, string>;
  /** Replace the file's routes. */
  routes?: string[];
  requestTimeoutMs?: number;
  memoryMb?: number;
  compatibility?: string;
  /** Binding keys set by flags: lists replace the files' lists, assets keys merge over them. */
  bindings?: BindingsOverride;
  /** Where the overrides came from, for error messages. */
  source?: string;
}

interface ConfigFile {
  path: string;
  text: string;
  kind: 'toml' | 'json';
}

function lineIn(file: ConfigFile, path: PathSegment[]): number | undefined {
  return file.kind === 'toml' ? lineOf(file.text, path) : jsonKeyLine(file.text, path);
}

function where(file: ConfigFile, path: PathSegment[]): string {
  const line = lineIn(file, path);
  return line ? `${file.path}:${line}` : file.path;
}

function parseFile(file: ConfigFile): Record<string, unknown> {
  try {
    if (file.kind === 'json') return parseJsonc(file.text) as Record<string, unknown>;
    return parseToml(file.text) as Record<string, unknown>;
  } catch (cause) {
    const e = cause as { line?: number; message?: string };
    const line = e.line;
    const what = file.kind === 'json' ? 'JSON' : 'TOML';
    throw new CliError(
      'ERR_CONFIG',
      `${basename(file.path)} is not valid ${what}: ${String(e.message).split('\n')[0]}`,
      {
        where: line ? `${file.path}:${line}` : file.path,
        hint: `fix the ${what} syntax at that line`,
        cause,
      },
    );
  }
}

/** Validates `value` (found at `keyPath` of `file`), turning a zod issue into a CliError. */
function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  file: ConfigFile,
  keyPath: PathSegment[],
  label: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  let path = issue.path as PathSegment[];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0]!];
    message = `unknown key "${issue.keys[0]}"`;
  }
  const shown = `${label}${issuePath(path)}`;
  const known =
    issue.code === 'unrecognized_keys'
      ? `remove it or fix its spelling (known keys: ${knownKeys(schema, issue.path as PathSegment[])})`
      : `change ${shown} in ${basename(file.path)}: ${message}`;
  throw new CliError('ERR_CONFIG', `${shown}: ${message}`, {
    where: where(file, [...keyPath, ...path]),
    hint: known,
  });
}

function knownKeys(schema: z.ZodType, path: PathSegment[]): string {
  const at = path.length === 0 ? schema : path[0] === 'limits' ? limitsSchema : undefined;
  const shape = (at as unknown as { shape?: Record<string, unknown> })?.shape;
  return shape ? Object.keys(shape).join(', ') : '(see the README)';
}

function readConfig(path: string, kind: ConfigFile['kind']): ConfigFile | undefined {
  return existsSync(path) ? { path, text: readFileSync(path, 'utf8'), kind } : undefined;
}

/**
 * Reads a worker project: pyproject.toml (`[tool.pyworkers]`) and/or a Cloudflare wrangler
 * config (wrangler.toml, wrangler.jsonc or wrangler.json), then applies `overrides`.
 * @example const project = loadProject('.', { memoryMb: 512 });
 */
export function loadProject(dirArg: string, overrides: ProjectOverrides = {}): Project {
  const dir = resolve(dirArg);
  const pyproject = readConfig(join(dir, 'pyproject.toml'), 'toml');
  const wranglers = [
    readConfig(join(dir, 'wrangler.jsonc'), 'json'),
    readConfig(join(dir, 'wrangler.json'), 'json'),
    readConfig(join(dir, 'wrangler.toml'), 'toml'),
  ].filter((f): f is ConfigFile => f !== undefined);
  const wranglerFile = wranglers[0];
  if (!pyproject && !wranglerFile) {
    throw new CliError('ERR_PROJECT', `no pyproject.toml or wrangler config in ${dir}`, {
      where: dir,
      hint: 'run `pyworkers init` there, or pass the directory of a worker project',
    });
  }
  const warnings: string[] = [];
  if (wranglers.length > 1) {
    warnings.push(
      `${wranglers.map((w) => basename(w.path)).join(' and ')} both exist; using ${basename(wranglerFile!.path)}`,
    );
  }
  const doc = pyproject ? parseFile(pyproject) : {};
  const toolTable = (doc.tool as Record<string, unknown> | undefined)?.pyworkers ?? {};
  const tool = pyproject
    ? parseWith(toolSchema, toolTable, pyproject, ['tool', 'pyworkers'], '[tool.pyworkers]')
    : {};
  const projectTable = (doc.project ?? {}) as { name?: unknown; dependencies?: unknown };
  const dependencies = Array.isArray(projectTable.dependencies)
    ? projectTable.dependencies.map(String)
    : [];

  let wrangler: z.output<typeof wranglerSchema> | undefined;
  if (wranglerFile) {
    const file = basename(wranglerFile.path);
    wrangler = parseWith(wranglerSchema, parseFile(wranglerFile), wranglerFile, [], file);
    for (const key of Object.keys(wrangler)) {
      if ((WRANGLER_KEYS as readonly string[]).includes(key)) continue;
      if (WRANGLER_IGNORED_SILENTLY.includes(key)) continue;
      warnings.push(
        `${where(wranglerFile, [key])}: ${file} key "${key}" is not supported by pyworkers and is ignored`,
      );
    }
    for (const flag of wrangler.compatibility_flags ?? []) {
      if (!flag.startsWith('python_') && flag !== 'nodejs_compat')
        warnings.push(
          `${where(wranglerFile, ['compatibility_flags'])}: compatibility flag "${flag}" has no effect in pyworkers`,
        );
    }
  }

  const src = overrides.source ?? 'the command line or PYWORKERS_* environment';
  const overrideFile: ConfigFile = { path: src, text: '', kind: 'json' };
  const over = parseWith(
    toolSchema,
    {
      ...(overrides.name !== undefined ? { name: overrides.name } : {}),
      ...(overrides.main !== undefined ? { main: overrides.main } : {}),
      ...(overrides.vars !== undefined ? { vars: overrides.vars } : {}),
      ...(overrides.routes !== undefined ? { routes: overrides.routes } : {}),
      ...(overrides.compatibility !== undefined ? { compatibility: overrides.compatibility } : {}),
    },
    overrideFile,
    [],
    'override',
  );
  const limitsOver = parseWith(
    limitsOverrideSchema,
    {
      ...(overrides.requestTimeoutMs !== undefined
        ? { request_timeout_ms: overrides.requestTimeoutMs }
        : {}),
      ...(overrides.memoryMb !== undefined ? { memory_mb: overrides.memoryMb } : {}),
    },
    overrideFile,
    [],
    'override limits',
  );

  const projectName = typeof projectTable.name === 'string' ? projectTable.name : undefined;
  const name = over.name ?? tool.name ?? wrangler?.name ?? projectName;
  if (!name) {
    throw new CliError('ERR_CONFIG', 'the worker has no name', {
      where: pyproject ? where(pyproject, ['project']) : wranglerFile!.path,
      hint: 'set [project].name or [tool.pyworkers].name in pyproject.toml (or name in the wrangler config, or --name)',
    });
  }
  const nameCheck = toolSchema.shape.name.safeParse(name);
  if (!nameCheck.success) {
    const file = pyproject ?? wranglerFile!;
    throw new CliError('ERR_CONFIG', `the worker name "${name}" is not usable`, {
      where: where(file, tool.name ? ['tool', 'pyworkers', 'name'] : ['project', 'name']),
      hint: `${nameCheck.error.issues[0]!.message}; or set [tool.pyworkers].name`,
    });
  }
  const main = over.main ?? tool.main ?? wrangler?.main ?? 'src/entry.py';
  if (!existsSync(join(dir, main))) {
    const from = over.main
      ? src
      : tool.main && pyproject
        ? where(pyproject, ['tool', 'pyworkers', 'main'])
        : wrangler?.main && wranglerFile
          ? where(wranglerFile, ['main'])
          : dir;
    throw new CliError('ERR_PROJECT', `the entry module ${main} does not exist`, {
      where: from,
      hint: 'create it, or point [tool.pyworkers].main (or wrangler main, or --main) at your entry module',
    });
  }
  const compatibility = over.compatibility ?? tool.compatibility;
  if (compatibility) {
    const line = over.compatibility
      ? src
      : pyproject
        ? where(pyproject, ['tool', 'pyworkers', 'compatibility'])
        : dir;
    checkCompatibility(compatibility, line);
  }
  const routes =
    over.routes ?? tool.routes ?? routesFromWrangler(wrangler?.routes, wrangler?.route);
  const vars = { ...wrangler?.vars, ...tool.vars, ...over.vars };
  const bindingsOver = overrides.bindings
    ? parseWith(bindingsOverrideSchema, overrides.bindings, overrideFile, [], 'override')
    : undefined;
  const { bindings, bindingSources } = projectBindings(dir, vars, [
    ...(wrangler && wranglerFile ? [{ file: wranglerFile, config: wrangler, prefix: [] }] : []),
    ...(pyproject ? [{ file: pyproject, config: tool, prefix: ['tool', 'pyworkers'] }] : []),
    { file: overrideFile, config: bindingsOver ?? {}, prefix: [] },
  ]);
  return {
    dir,
    name,
    main,
    vars,
    routes,
    limits: {
      requestTimeoutMs: limitsOver.request_timeout_ms ?? tool.limits?.request_timeout_ms ?? 30_000,
      memoryMb: limitsOver.memory_mb ?? tool.limits?.memory_mb ?? 256,
    },
    ...(compatibility ? { compatibility } : {}),
    compatibilityFlags: wrangler?.compatibility_flags ?? [],
    ...(wrangler?.compatibility_date ? { compatibilityDate: wrangler.compatibility_date } : {}),
    dependencies,
    ...(pyproject ? { pyprojectPath: pyproject.path } : {}),
    ...(wranglerFile ? { wranglerPath: wranglerFile.path } : {}),
    bindings,
    bindingSources,
    declaredNames: new Set([
      ...bindings.bindings.map((b) => b.name),
      ...declaredNames(wrangler),
      ...declaredNames(tool),
    ]),
    warnings,
  };
}

/** Declarations from each config file, checked for clashes and for an assets directory that exists. */
function projectBindings(
  dir: string,
  vars: Record<string, string>,
  layers: { file: ConfigFile; config: BindingsOverride; prefix: PathSegment[] }[],
): { bindings: WorkerBindings; bindingSources: Map<string, string> } {
  const files = new Map(layers.map((c) => [c.file.path, c.file] as const));
  const at = (source: DeclarationSource): string => where(files.get(source.file)!, source.path);
  let resolved: ReturnType<typeof resolveBindings>;
  let configs: { file: ConfigFile; config: BindingsConfig; prefix: PathSegment[] }[];
  try {
    // Key by key the later layer wins: wrangler < [tool.pyworkers] < env < flags.
    let merged: { config: BindingsConfig; file: string; prefix: PathSegment[] }[] = [];
    for (const layer of layers)
      merged = withOverrides(merged, layer.config, layer.file.path, layer.prefix);
    configs = merged.map((c) => ({ ...c, file: files.get(c.file)! }));
    resolved = resolveBindings(
      configs.map((c) => ({ config: c.config, file: c.file.path, prefix: c.prefix })),
      vars,
    );
  } catch (err) {
    if (!(err instanceof BindingConflict)) throw err;
    throw new CliError('ERR_CONFIG', err.message, { where: at(err.source), hint: err.hint });
  }
  const { sources, ...bindings } = resolved;
  if (bindings.assets && !existsSync(join(dir, bindings.assets.directory))) {
    const file = configs.find((c) => c.config.assets)!;
    throw new CliError(
      'ERR_PROJECT',
      `the assets directory ${bindings.assets.directory} does not exist`,
      {
        where: where(file.file, [...file.prefix, 'assets', 'directory']),
        hint: `create ${join(dir, bindings.assets.directory)}, or point assets.directory at your static files`,
      },
    );
  }
  return {
    bindings,
    bindingSources: new Map([...sources].map(([name, source]) => [name, at(source)])),
  };
}

const SKIP_DIRS = new Set(['__pycache__', 'node_modules', 'python_modules']);

function walkFiles(root: string, into: Map<string, Uint8Array>, prefix = ''): void {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = join(root, entry.name);
    if (entry.isDirectory()) walkFiles(full, into, `${prefix}${entry.name}/`);
    else if (entry.isFile()) into.set(`${prefix}${entry.name}`, new Uint8Array(readFileSync(full)));
  }
}

/**
 * The files a worker's isolate sees, by path relative to its root: the entry module's directory
 * and the vendored `python_modules/`, both on `sys.path`; and which of them are dependencies
 * (their top-level import names, and a key of their content).
 */
export function projectFiles(project: Project): {
  files: Map<string, Uint8Array>;
  mainModule: string;
  /** Directory whose files sit at the isolate's worker root (for mapping tracebacks back). */
  sourceRoot: string;
  dependencies: { key: string; packages: string[] };
} {
  const mainPath = join(project.dir, project.main);
  const srcDir = join(mainPath, '..');
  const files = new Map<string, Uint8Array>();
  const vendored = join(project.dir, 'python_modules');
  if (existsSync(vendored)) walkFiles(vendored, files);
  const fromDependencies = new Map(files);
  // The project's own files win over a vendored module of the same path.
  const own = new Map<string, Uint8Array>();
  walkFiles(srcDir, own);
  for (const [path, bytes] of own) files.set(path, bytes);
  const ownTops = new Set([...own.keys()].map(topLevelName));
  const hash = createHash('sha256');
  const packages = new Set<string>();
  for (const path of [...fromDependencies.keys()].sort()) {
    const top = topLevelName(path);
    if (ownTops.has(top)) continue;
    hash.update(path).update('\0').update(fromDependencies.get(path)!);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(top)) packages.add(top);
  }
  const rel = relative(srcDir, mainPath).split(sep).join('/');
  return {
    files,
    mainModule: rel.replace(/\.py$/, '').replaceAll('/', '.'),
    sourceRoot: srcDir,
    dependencies: { key: hash.digest('hex'), packages: [...packages].sort() },
  };
}

/** The import name a file's path starts: `flask/app.py` -> `flask`, `six.py` -> `six`. */
function topLevelName(path: string): string {
  const first = path.split('/')[0]!;
  return path.includes('/') ? first : first.replace(/\.(py|pyi|so)$/, '');
}
