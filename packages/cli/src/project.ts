import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import { CliError } from './errors.js';

const routeSchema = z.union([
  z
    .string()
    .min(1)
    .transform((s) => (s.startsWith('/') ? { pathPrefix: s } : { host: s })),
  z
    .object({ host: z.string().min(1).optional(), path: z.string().min(1).optional() })
    .transform((r) => ({
      ...(r.host ? { host: r.host } : {}),
      ...(r.path ? { pathPrefix: r.path } : {}),
    })),
]);

const toolSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-_]*$/i, 'use letters, digits, - and _')
      .optional(),
    main: z.string().min(1).optional(),
    vars: z.record(z.string(), z.string()).optional(),
    routes: z.array(routeSchema).optional(),
  })
  .strict();

const wranglerSchema = z
  .object({
    name: z.string().min(1).optional(),
    main: z.string().min(1).optional(),
    vars: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
      .optional(),
    compatibility_flags: z.array(z.string()).optional(),
    compatibility_date: z.string().optional(),
  })
  .passthrough();

/** A worker project as read from its directory. */
export interface Project {
  dir: string;
  name: string;
  /** Path of the entry module relative to `dir`, e.g. `src/entry.py`. */
  main: string;
  vars: Record<string, string>;
  routes: { host?: string; pathPrefix?: string }[];
  /** Wrangler keys this runtime does not act on, one warning each. */
  warnings: string[];
}

function formatPath(prefix: string, path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`),
    prefix,
  );
}

function readToml(file: string): Record<string, unknown> {
  try {
    return parseToml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    const e = cause as { line?: number; message?: string };
    throw new CliError(
      'ERR_CONFIG',
      `${file} is not valid TOML: ${String(e.message).split('\n')[0]}`,
      {
        where: e.line ? `${file}:${e.line}` : file,
        hint: 'fix the TOML syntax at that line',
        cause,
      },
    );
  }
}

function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  file: string,
  prefix: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new CliError('ERR_CONFIG', `${formatPath(prefix, issue.path)}: ${issue.message}`, {
    where: file,
    hint: `correct ${formatPath(prefix, issue.path)} in ${file}`,
  });
}

/** Reads a worker project: pyproject.toml (`[tool.pyworkers]`) and/or wrangler.toml. */
export function loadProject(dirArg: string): Project {
  const dir = resolve(dirArg);
  const pyprojectPath = join(dir, 'pyproject.toml');
  const wranglerPath = join(dir, 'wrangler.toml');
  if (!existsSync(pyprojectPath) && !existsSync(wranglerPath)) {
    throw new CliError('ERR_PROJECT', `no pyproject.toml or wrangler.toml in ${dir}`, {
      hint: 'run `pyworkers init` there, or pass the directory of a worker project',
    });
  }
  const pyproject = existsSync(pyprojectPath) ? readToml(pyprojectPath) : {};
  const toolTable = (pyproject.tool as Record<string, unknown> | undefined)?.pyworkers ?? {};
  const tool = parseWith(toolSchema, toolTable, pyprojectPath, '[tool.pyworkers]');
  const wrangler = existsSync(wranglerPath)
    ? parseWith(wranglerSchema, readToml(wranglerPath), wranglerPath, 'wrangler')
    : undefined;
  const warnings = wrangler
    ? Object.keys(wrangler)
        .filter(
          (k) => !['name', 'main', 'vars', 'compatibility_flags', 'compatibility_date'].includes(k),
        )
        .map((k) => `wrangler.toml key "${k}" is not supported by pyworkers and is ignored`)
    : [];
  const projectName = (pyproject.project as { name?: unknown } | undefined)?.name;
  const name =
    tool.name ?? wrangler?.name ?? (typeof projectName === 'string' ? projectName : undefined);
  if (!name) {
    throw new CliError('ERR_CONFIG', 'the worker has no name', {
      where: pyprojectPath,
      hint: 'set [project].name or [tool.pyworkers].name in pyproject.toml',
    });
  }
  const main = tool.main ?? wrangler?.main ?? 'src/entry.py';
  if (!existsSync(join(dir, main))) {
    throw new CliError('ERR_PROJECT', `the entry module ${main} does not exist`, {
      where: dir,
      hint: 'create it, or point [tool.pyworkers].main (or wrangler main) at your entry module',
    });
  }
  return {
    dir,
    name,
    main,
    vars: { ...wrangler?.vars, ...tool.vars },
    routes: tool.routes ?? [],
    warnings,
  };
}

function walkFiles(root: string, into: Map<string, Uint8Array>, prefix = ''): void {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
    const full = join(root, entry.name);
    if (entry.isDirectory()) walkFiles(full, into, `${prefix}${entry.name}/`);
    else if (entry.isFile()) into.set(`${prefix}${entry.name}`, new Uint8Array(readFileSync(full)));
  }
}

/**
 * The files a worker's isolate sees, by path relative to its root: the entry module's directory
 * and the vendored `python_modules/`, both on `sys.path`.
 */
export function projectFiles(project: Project): {
  files: Map<string, Uint8Array>;
  mainModule: string;
} {
  const mainPath = join(project.dir, project.main);
  const srcDir = join(mainPath, '..');
  const files = new Map<string, Uint8Array>();
  walkFiles(srcDir, files);
  const vendored = join(project.dir, 'python_modules');
  if (existsSync(vendored)) walkFiles(vendored, files);
  const rel = relative(srcDir, mainPath).split(sep).join('/');
  return { files, mainModule: rel.replace(/\.py$/, '').replaceAll('/', '.') };
}
