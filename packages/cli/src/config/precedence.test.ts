// Every config key, from every place it can be set: the file alone, an env var over the file,
// a flag over the env var. Real project directories, real environment variables, and the flag
// values exactly as node:util parseArgs hands them to the commands.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { configOptions, configOverrides } from '../internal/command.js';
import { loadProject, type Project } from '../project.js';

const dirs: string[] = [];
afterEach(() => {
  vi.unstubAllEnvs();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyw-precedence-'));
  dirs.push(dir);
  // Every entry module a case may name exists, so only the precedence decides.
  for (const m of ['entry', 'file', 'wrangler', 'env', 'flag']) files[`src/${m}.py`] ??= '';
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The flags as the CLI parses them (same option types as main.ts gives parseArgs). */
function flags(argv: string[]): Record<string, unknown> {
  const options = Object.fromEntries(
    Object.entries(configOptions).map(([k, o]) => [
      k,
      { type: o.type, ...('multiple' in o && o.multiple ? { multiple: true } : {}) },
    ]),
  );
  return parseArgs({ args: argv, options, strict: true }).values;
}

function load(dir: string, argv: string[] = [], env: Record<string, string> = {}): Project {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  return loadProject(dir, configOverrides(flags(argv)));
}

interface Case {
  /** The config key (`[tool.pyworkers]` path), as `configKey` on its flag. */
  key: string;
  /** `[tool.pyworkers]` lines setting the key to the "file" value. */
  tool: string;
  /** wrangler.toml lines setting the same key, when wrangler has it. */
  wrangler?: string;
  env: Record<string, string>;
  flag: string[];
  read(p: Project): unknown;
  file: unknown;
  fromWrangler?: unknown;
  fromEnv: unknown;
  fromFlag: unknown;
}

const cases: Case[] = [
  {
    key: 'name',
    tool: 'name = "from-file"',
    wrangler: 'name = "from-wrangler"',
    env: { PYWORKERS_NAME: 'from-env' },
    flag: ['--name', 'from-flag'],
    read: (p) => p.name,
    file: 'from-file',
    fromWrangler: 'from-wrangler',
    fromEnv: 'from-env',
    fromFlag: 'from-flag',
  },
  {
    key: 'main',
    tool: 'main = "src/file.py"',
    wrangler: 'main = "src/wrangler.py"',
    env: { PYWORKERS_MAIN: 'src/env.py' },
    flag: ['--main', 'src/flag.py'],
    read: (p) => p.main,
    file: 'src/file.py',
    fromWrangler: 'src/wrangler.py',
    fromEnv: 'src/env.py',
    fromFlag: 'src/flag.py',
  },
  {
    // Vars merge key by key: B keeps the file's value at every level.
    key: 'vars',
    tool: 'vars = { A = "file", B = "file" }',
    wrangler: '[vars]\nA = "wrangler"\nB = "wrangler"',
    env: { PYWORKERS_VARS: 'A=env' },
    flag: ['--var', 'A=flag'],
    read: (p) => p.vars,
    file: { A: 'file', B: 'file' },
    fromWrangler: { A: 'wrangler', B: 'wrangler' },
    fromEnv: { A: 'env', B: 'file' },
    fromFlag: { A: 'flag', B: 'file' },
  },
  {
    key: 'routes',
    tool: 'routes = ["/file"]',
    wrangler: 'routes = ["wrangler.example/api/*"]',
    env: { PYWORKERS_ROUTES: '/env,env.example' },
    flag: ['--route', '/flag'],
    read: (p) => p.routes,
    file: [{ pathPrefix: '/file' }],
    fromWrangler: [{ host: 'wrangler.example', pathPrefix: '/api/' }],
    fromEnv: [{ pathPrefix: '/env' }, { host: 'env.example' }],
    fromFlag: [{ pathPrefix: '/flag' }],
  },
  {
    key: 'limits.request_timeout_ms',
    tool: '[tool.pyworkers.limits]\nrequest_timeout_ms = 1111',
    env: { PYWORKERS_REQUEST_TIMEOUT_MS: '2222' },
    flag: ['--request-timeout-ms', '3333'],
    read: (p) => p.limits.requestTimeoutMs,
    file: 1111,
    fromEnv: 2222,
    fromFlag: 3333,
  },
  {
    key: 'limits.memory_mb',
    tool: '[tool.pyworkers.limits]\nmemory_mb = 64',
    env: { PYWORKERS_MEMORY_MB: '96' },
    flag: ['--memory-mb', '128'],
    read: (p) => p.limits.memoryMb,
    file: 64,
    fromEnv: 96,
    fromFlag: 128,
  },
  {
    key: 'compatibility',
    tool: 'compatibility = "pyodide-314"',
    env: { PYWORKERS_COMPATIBILITY: 'python-3.14' },
    flag: ['--compatibility', 'pyodide-314.0'],
    read: (p) => p.compatibility,
    file: 'pyodide-314',
    fromEnv: 'python-3.14',
    fromFlag: 'pyodide-314.0',
  },
  // Binding keys: a list from a later place replaces the earlier one; assets keys one by one.
  ...(
    [
      ['kv_namespaces', 'kv', 'PYWORKERS_KV', 'kv', '', (v: string) => v],
      ['d1_databases', 'd1', 'PYWORKERS_DATABASES', 'd1', '', (v: string) => v],
      [
        'r2_buckets',
        'r2',
        'PYWORKERS_BUCKETS',
        'r2',
        '\nbucket_name = "b"',
        (v: string) => `${v}=b`,
      ],
      [
        'services',
        'service',
        'PYWORKERS_SERVICES',
        'service',
        '\nservice = "other"',
        (v: string) => `${v}=other:Api`,
      ],
    ] as const
  ).map(
    ([key, type, env, flag, extra, value]): Case => ({
      key,
      tool: `[[tool.pyworkers.${key}]]\nbinding = "FILE"${extra}`,
      wrangler: `[[${key}]]\nbinding = "WRANGLER"${extra}`,
      env: { [env]: value('ENV') },
      flag: [`--${flag}`, value('FLAG')],
      read: (p) => p.bindings.bindings.filter((b) => b.type === type).map((b) => b.name),
      file: ['FILE'],
      fromWrangler: ['WRANGLER'],
      fromEnv: ['ENV'],
      fromFlag: ['FLAG'],
    }),
  ),
  {
    key: 'queues.producers',
    tool: '[[tool.pyworkers.queues.producers]]\nbinding = "FILE"\nqueue = "q"',
    wrangler: '[[queues.producers]]\nbinding = "WRANGLER"\nqueue = "q"',
    env: { PYWORKERS_QUEUE_PRODUCERS: 'ENV=q' },
    flag: ['--queue-producer', 'FLAG=q'],
    read: (p) => p.bindings.bindings.filter((b) => b.type === 'queue').map((b) => b.name),
    file: ['FILE'],
    fromWrangler: ['WRANGLER'],
    fromEnv: ['ENV'],
    fromFlag: ['FLAG'],
  },
  {
    key: 'durable_objects.bindings',
    tool: '[[tool.pyworkers.durable_objects.bindings]]\nname = "FILE"\nclass_name = "Room"',
    wrangler: '[[durable_objects.bindings]]\nname = "WRANGLER"\nclass_name = "Room"',
    env: { PYWORKERS_DURABLE_OBJECTS: 'ENV=Room' },
    flag: ['--durable-object', 'FLAG=Room@other'],
    read: (p) =>
      p.bindings.bindings.filter((b) => b.type === 'durable_object_namespace').map((b) => b.name),
    file: ['FILE'],
    fromWrangler: ['WRANGLER'],
    fromEnv: ['ENV'],
    fromFlag: ['FLAG'],
  },
  {
    key: 'migrations',
    tool: '[[tool.pyworkers.migrations]]\ntag = "file"',
    wrangler: '[[migrations]]\ntag = "wrangler"',
    env: { PYWORKERS_MIGRATIONS: '[{"tag": "env"}]' },
    flag: ['--migrations', '[{"tag": "flag", "new_sqlite_classes": ["Room"]}]'],
    read: (p) => p.bindings.durableObjects?.migrations.map((m) => m.tag),
    file: ['file'],
    fromWrangler: ['wrangler'],
    fromEnv: ['env'],
    fromFlag: ['flag'],
  },
  {
    key: 'queues.consumers',
    tool: '[[tool.pyworkers.queues.consumers]]\nqueue = "file"',
    wrangler: '[[queues.consumers]]\nqueue = "wrangler"',
    env: { PYWORKERS_QUEUE_CONSUMERS: 'env' },
    flag: ['--queue-consumer', 'flag'],
    read: (p) => p.bindings.queueConsumers.map((c) => c.queue),
    file: ['file'],
    fromWrangler: ['wrangler'],
    fromEnv: ['env'],
    fromFlag: ['flag'],
  },
  ...(
    [
      [
        'assets.directory',
        'directory',
        'src',
        'src/',
        '.',
        './src',
        'PYWORKERS_ASSETS',
        'assets',
        (p: Project) => p.bindings.assets?.directory,
      ],
      [
        'assets.binding',
        'binding',
        'FILE',
        'WRANGLER',
        'ENV',
        'FLAG',
        'PYWORKERS_ASSETS_BINDING',
        'assets-binding',
        (p: Project) => p.bindings.assets?.binding,
      ],
      [
        'assets.html_handling',
        'html_handling',
        'none',
        'drop-trailing-slash',
        'force-trailing-slash',
        'auto-trailing-slash',
        'PYWORKERS_HTML_HANDLING',
        'html-handling',
        (p: Project) => p.bindings.assets?.htmlHandling,
      ],
      [
        'assets.not_found_handling',
        'not_found_handling',
        '404-page',
        'single-page-application',
        'none',
        '404-page',
        'PYWORKERS_NOT_FOUND_HANDLING',
        'not-found-handling',
        (p: Project) => p.bindings.assets?.notFoundHandling,
      ],
    ] as const
  ).map(([key, field, file, wrangler, env, flag, envName, flagName, read]): Case => {
    // The directory itself, or the one every other assets case uses.
    const dir = (v: string) =>
      `${field === 'directory' ? '' : 'directory = "src"\n'}${field} = "${v}"`;
    return {
      key,
      tool: `[tool.pyworkers.assets]\n${dir(file)}`,
      wrangler: `[assets]\n${dir(wrangler)}`,
      env: field === 'directory' ? { [envName]: env } : { [envName]: env },
      flag: [`--${flagName}`, flag],
      read,
      file,
      fromWrangler: wrangler,
      fromEnv: env,
      fromFlag: flag,
    };
  }),
  {
    key: 'assets.run_worker_first',
    tool: '[tool.pyworkers.assets]\ndirectory = "src"\nrun_worker_first = ["/api/*"]',
    wrangler: '[assets]\ndirectory = "src"\nrun_worker_first = true',
    env: { PYWORKERS_RUN_WORKER_FIRST: '/env/*,!/env/static/*' },
    flag: ['--run-worker-first', 'false'],
    read: (p) => p.bindings.assets?.runWorkerFirst,
    file: ['/api/*'],
    fromWrangler: true,
    fromEnv: ['/env/*', '!/env/static/*'],
    fromFlag: false,
  },
  {
    key: 'triggers.crons',
    tool: 'triggers = { crons = ["0 * * * *"] }',
    wrangler: '[triggers]\ncrons = ["*/10 * * * *"]',
    env: { PYWORKERS_CRONS: '*/5 * * * *;0 0 * * *' },
    flag: ['--cron', '1 2 3 4 5'],
    read: (p) => p.bindings.crons,
    file: ['0 * * * *'],
    fromWrangler: ['*/10 * * * *'],
    fromEnv: ['*/5 * * * *', '0 0 * * *'],
    fromFlag: ['1 2 3 4 5'],
  },
];

const pyproject = (tool: string) => `[project]\nname = "demo"\n\n[tool.pyworkers]\n${tool}\n`;

describe('config precedence: file < env < flag, for every key', () => {
  it('covers every key that has a flag', () => {
    const keys = Object.values(configOptions).map((o) => o.configKey);
    expect(cases.map((c) => c.key).sort()).toEqual(keys.sort());
  });

  describe.each(cases.map((c) => [c.key, c] as const))('%s', (_key, c) => {
    it('the file alone', () => {
      expect(c.read(load(project({ 'pyproject.toml': pyproject(c.tool) })))).toEqual(c.file);
    });

    it('an env var over the file', () => {
      const dir = project({ 'pyproject.toml': pyproject(c.tool) });
      expect(c.read(load(dir, [], c.env))).toEqual(c.fromEnv);
    });

    it('a flag over the env var', () => {
      const dir = project({ 'pyproject.toml': pyproject(c.tool) });
      expect(c.read(load(dir, c.flag, c.env))).toEqual(c.fromFlag);
    });

    it("no flag and no env var: a flag's default never replaces the file", () => {
      const dir = project({ 'pyproject.toml': pyproject(c.tool) });
      // Other keys' flags and env vars leave this one alone.
      const other = cases.find((o) => o.key !== c.key && !o.key.startsWith('limits'))!;
      expect(c.read(load(dir, other.flag, other.env))).toEqual(c.file);
    });

    if (c.wrangler) {
      const wrangler = c.key === 'name' ? `${c.wrangler}\n` : `name = "demo"\n${c.wrangler}\n`;
      it('wrangler.toml alone, then env and flag over it', () => {
        const dir = project({ 'wrangler.toml': wrangler });
        expect(c.read(load(dir))).toEqual(c.fromWrangler);
        vi.unstubAllEnvs();
        const env = c.read(load(dir, [], c.env));
        const flag = c.read(load(dir, c.flag, c.env));
        // Vars merge over wrangler's instead of the file's.
        if (c.key === 'vars') {
          expect(env).toEqual({ A: 'env', B: 'wrangler' });
          expect(flag).toEqual({ A: 'flag', B: 'wrangler' });
        } else {
          expect(env).toEqual(c.fromEnv);
          expect(flag).toEqual(c.fromFlag);
        }
      });

      it('[tool.pyworkers] over wrangler.toml when both set it', () => {
        const dir = project({
          'pyproject.toml': pyproject(c.tool),
          'wrangler.toml': wrangler,
        });
        expect(c.read(load(dir))).toEqual(c.file);
      });
    }
  });
});
