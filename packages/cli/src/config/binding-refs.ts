// A worker that calls a binding its config does not declare would fail on its first request
// (`AttributeError: env has no binding 'KV'`); the build finds such calls in the worker's own
// sources first and says where, and which config block declares the binding.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { CliError } from '../errors.js';

type Kind = 'kv' | 'd1' | 'r2' | 'queue' | 'assets' | 'service';

// Method name -> the binding type it most likely belongs to (get/put/list: KV first).
const METHODS: Record<string, Kind> = {
  get: 'kv',
  put: 'kv',
  delete: 'kv',
  list: 'kv',
  getWithMetadata: 'kv',
  get_with_metadata: 'kv',
  prepare: 'd1',
  batch: 'd1',
  exec: 'd1',
  dump: 'd1',
  head: 'r2',
  createMultipartUpload: 'r2',
  create_multipart_upload: 'r2',
  resumeMultipartUpload: 'r2',
  resume_multipart_upload: 'r2',
  send: 'queue',
  sendBatch: 'queue',
  send_batch: 'queue',
  fetch: 'assets',
};

// `env.NAME.method(` or `env["NAME"].method(` (self.env, too): a call no str var or secret has.
const REF = new RegExp(
  `\\benv\\s*(?:\\.\\s*([A-Za-z_]\\w*)|\\[\\s*["']([A-Za-z_]\\w*)["']\\s*\\])\\s*\\.\\s*(${Object.keys(METHODS).join('|')})\\s*\\(`,
  'g',
);

/** One call on a binding that is not declared. */
export interface UndeclaredRef {
  file: string;
  line: number;
  name: string;
  method: string;
  kind: Kind;
}

const SKIP = new Set(['__pycache__', 'node_modules', 'python_modules']);

function* pythonFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name) || entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) yield* pythonFiles(full);
    else if (entry.isFile() && entry.name.endsWith('.py')) yield full;
  }
}

/** Calls on `env.X` in the worker's own sources where `X` is not a declared name. */
export function findUndeclaredRefs(sourceRoot: string, declared: Set<string>): UndeclaredRef[] {
  const out: UndeclaredRef[] = [];
  for (const file of pythonFiles(sourceRoot)) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((text, i) => {
      const code = text.trimStart().startsWith('#') ? '' : text;
      for (const m of code.matchAll(REF)) {
        const name = (m[1] ?? m[2])!;
        const method = m[3]!;
        if (!declared.has(name))
          out.push({ file, line: i + 1, name, method, kind: METHODS[method]! });
      }
    });
  }
  return out;
}

const WHAT: Record<Kind, string> = {
  kv: 'a KV namespace',
  d1: 'a D1 database',
  r2: 'an R2 bucket',
  queue: 'a queue',
  assets: 'the assets binding',
  service: 'another worker (a service binding)',
};

/** The config block that declares `name` as `kind`, in the syntax of the project's config file. */
export function declarationSnippet(
  kind: Kind,
  name: string,
  configPath: string | undefined,
): string {
  const file = configPath ? basename(configPath) : 'pyproject.toml';
  const lower = name.toLowerCase().replaceAll('_', '-');
  const fields: Record<Kind, [string, [string, string][]]> = {
    kv: [
      'kv_namespaces',
      [
        ['binding', name],
        ['id', lower],
      ],
    ],
    d1: [
      'd1_databases',
      [
        ['binding', name],
        ['database_name', lower],
      ],
    ],
    r2: [
      'r2_buckets',
      [
        ['binding', name],
        ['bucket_name', lower],
      ],
    ],
    queue: [
      'queues.producers',
      [
        ['binding', name],
        ['queue', lower],
      ],
    ],
    assets: [
      'assets',
      [
        ['directory', './public'],
        ['binding', name],
      ],
    ],
    service: [
      'services',
      [
        ['binding', name],
        ['service', lower],
      ],
    ],
  };
  const [key, pairs] = fields[kind];
  if (file.endsWith('.json') || file.endsWith('.jsonc')) {
    const obj = `{ ${pairs.map(([k, v]) => `"${k}": "${v}"`).join(', ')} }`;
    if (kind === 'assets') return `"assets": ${obj}`;
    if (kind === 'queue') return `"queues": { "producers": [${obj}] }`;
    return `"${key}": [${obj}]`;
  }
  const prefix = file === 'pyproject.toml' ? 'tool.pyworkers.' : '';
  const body = pairs.map(([k, v]) => `${k} = "${v}"`).join('\n');
  return kind === 'assets' ? `[${prefix}${key}]\n${body}` : `[[${prefix}${key}]]\n${body}`;
}

/** Fails the build on the first call to an undeclared binding, with file:line and the fix. */
export function checkBindingRefs(options: {
  sourceRoot: string;
  projectDir: string;
  declared: Set<string>;
  /** The wrangler config if there is one, else pyproject.toml (where the fix goes). */
  configPath: string | undefined;
}): void {
  const refs = findUndeclaredRefs(options.sourceRoot, options.declared);
  const first = refs[0];
  if (!first) return;
  const more = refs.length > 1 ? ` (and ${refs.length - 1} more)` : '';
  const shown = relative(options.projectDir, first.file);
  const config = options.configPath ? basename(options.configPath) : 'pyproject.toml';
  throw new CliError(
    'ERR_CONFIG',
    `${shown}:${first.line} calls env.${first.name}.${first.method}(), but no binding ${first.name} is declared${more}`,
    {
      where: `${first.file}:${first.line}`,
      hint:
        first.method === 'fetch'
          ? // fetch is on both: another worker (a service binding) or the assets binding.
            `if ${first.name} is ${WHAT.service}, declare it in ${config}:\n${declarationSnippet('service', first.name, options.configPath)}\nif it is ${WHAT.assets}:\n${declarationSnippet('assets', first.name, options.configPath)}`
          : `if ${first.name} is ${WHAT[first.kind]}, declare it in ${config}:\n${declarationSnippet(first.kind, first.name, options.configPath)}`,
    },
  );
}

/** Names any wrangler block declares, supported or not (durable_objects, services, ai, ...). */
export function declaredNames(wrangler: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'binding' && typeof x === 'string') names.add(x);
        else if (k === 'name' && key === 'bindings' && typeof x === 'string') names.add(x);
        else walk(x, k);
      }
    }
  };
  walk(wrangler);
  return names;
}
