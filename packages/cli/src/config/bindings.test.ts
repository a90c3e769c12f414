import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../errors.js';
import { workerDefinitions } from '../internal/worker-definitions.js';
import { loadProject, projectFiles } from '../project.js';
import { checkBindingRefs } from './binding-refs.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyw-bindings-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function thrown(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  return expect.unreachable('no error was thrown');
}

const WRANGLER_JSONC = `{
  "name": "w",
  "main": "src/entry.py",
  "kv_namespaces": [{ "binding": "FOO", "id": "<YOUR_KV_NAMESPACE_ID>", "preview_id": "p" }],
  "d1_databases": [
    {
      "binding": "DB", // env.DB
      "database_name": "quotes",
      "database_id": "408cddb7",
      "migrations_dir": "migrations"
    }
  ],
  "r2_buckets": [{ "binding": "BUCKET", "bucket_name": "files" }],
  "queues": {
    "producers": [{ "binding": "JOBS", "queue": "jobs", "delivery_delay": 2 }],
    "consumers": [{ "queue": "jobs", "max_batch_size": 5, "dead_letter_queue": "jobs-dlq" }]
  },
  "assets": { "directory": "./assets/", "binding": "ASSETS", "not_found_handling": "404-page" },
  "triggers": { "crons": ["*/1 * * * *"] }
}`;

describe('binding config', () => {
  it('reads every binding kind from wrangler.jsonc, with Cloudflare defaults', () => {
    const dir = project({ 'wrangler.jsonc': WRANGLER_JSONC, 'src/entry.py': '', 'assets/a': '' });
    const p = loadProject(dir);
    expect(p.warnings).toEqual([]);
    expect(p.bindings).toEqual({
      bindings: [
        { type: 'kv', name: 'FOO', id: '<YOUR_KV_NAMESPACE_ID>' },
        {
          type: 'd1',
          name: 'DB',
          databaseName: 'quotes',
          databaseId: '408cddb7',
          migrationsDir: 'migrations',
        },
        { type: 'r2', name: 'BUCKET', bucketName: 'files' },
        { type: 'queue', name: 'JOBS', queue: 'jobs', deliveryDelay: 2 },
        { type: 'assets', name: 'ASSETS', directory: './assets/' },
      ],
      crons: ['*/1 * * * *'],
      queueConsumers: [
        {
          queue: 'jobs',
          maxBatchSize: 5,
          maxBatchTimeout: 5,
          maxRetries: 3,
          deadLetterQueue: 'jobs-dlq',
        },
      ],
      assets: {
        directory: './assets/',
        binding: 'ASSETS',
        htmlHandling: 'auto-trailing-slash',
        notFoundHandling: '404-page',
        runWorkerFirst: false,
      },
    });
    // The element itself (its opening brace), under "d1_databases".
    expect(p.bindingSources.get('DB')).toBe(`${join(dir, 'wrangler.jsonc')}:6`);
  });

  it('reads the same keys under [tool.pyworkers] and wrangler.toml, [tool.pyworkers] winning key by key', () => {
    const dir = project({
      'pyproject.toml': `[project]\nname = "t"\n[tool.pyworkers]\ntriggers = { crons = ["0 * * * *"] }\n[[tool.pyworkers.kv_namespaces]]\nbinding = "CACHE"\n[[tool.pyworkers.d1_databases]]\nbinding = "DB"\n`,
      'wrangler.toml': `name = "t"\n[[r2_buckets]]\nbinding = "B"\nbucket_name = "b"\n[triggers]\ncrons = ["*/5 * * * *"]\n`,
      'src/entry.py': '',
    });
    const p = loadProject(dir);
    expect(p.bindings.bindings).toEqual([
      { type: 'r2', name: 'B', bucketName: 'b' },
      // Local state needs no ids: the binding name stands in.
      { type: 'kv', name: 'CACHE', id: 'CACHE' },
      { type: 'd1', name: 'DB', databaseName: 'DB' },
    ]);
    expect(p.bindings.crons).toEqual(['0 * * * *']);
  });

  it('refuses a typo under [tool.pyworkers] with the line and the known keys', () => {
    const dir = project({
      'pyproject.toml': `[project]\nname = "t"\n[[tool.pyworkers.d1_databases]]\nbinding = "DB"\ndatabse_name = "x"\n`,
      'src/entry.py': '',
    });
    const e = thrown(() => loadProject(dir));
    expect(e.message).toMatch(/unknown key "databse_name"/);
    expect(e.where).toBe(`${join(dir, 'pyproject.toml')}:5`);
  });

  it('refuses a binding declared twice, pointing at the second', () => {
    const dir = project({
      'wrangler.toml': `name = "t"\n[[kv_namespaces]]\nbinding = "X"\n[[r2_buckets]]\nbinding = "X"\nbucket_name = "b"\n`,
      'src/entry.py': '',
    });
    const e = thrown(() => loadProject(dir));
    expect(e.message).toMatch(/binding "X" is declared twice/);
    expect(e.where).toBe(`${join(dir, 'wrangler.toml')}:4`);
  });

  it('refuses an assets directory that does not exist', () => {
    const dir = project({
      'wrangler.jsonc': '{ "name": "t",\n "assets": { "directory": "./public" } }',
      'src/entry.py': '',
    });
    const e = thrown(() => loadProject(dir));
    expect(e.message).toBe('the assets directory ./public does not exist');
    expect(e.where).toBe(`${join(dir, 'wrangler.jsonc')}:2`);
  });
});

describe('a binding the code calls but the config does not declare', () => {
  const check = (dir: string): void => {
    const p = loadProject(dir);
    checkBindingRefs({
      sourceRoot: projectFiles(p).sourceRoot,
      projectDir: p.dir,
      declared: p.declaredNames,
      configPath: p.wranglerPath ?? p.pyprojectPath,
    });
  };

  it('fails with file:line and the config block to add, in the config file syntax', () => {
    const dir = project({
      'wrangler.jsonc': '{ "name": "t", "main": "src/entry.py" }',
      'src/entry.py':
        'from workers import WorkerEntrypoint\nclass Default(WorkerEntrypoint):\n    async def fetch(self, request):\n        # self.env.COMMENTED.get("x")\n        return await self.env.DB.prepare("SELECT 1").all()\n',
    });
    const e = thrown(() => check(dir));
    expect(e.message).toBe('src/entry.py:5 calls env.DB.prepare(), but no binding DB is declared');
    expect(e.where).toBe(`${join(dir, 'src/entry.py')}:5`);
    expect(e.hint).toBe(
      'if DB is a D1 database, declare it in wrangler.jsonc:\n"d1_databases": [{ "binding": "DB", "database_name": "db" }]',
    );
  });

  it('offers a service binding (or the assets binding) for an undeclared fetch', () => {
    const dir = project({
      'wrangler.toml': 'name = "t"\nmain = "src/entry.py"\n',
      'src/entry.py':
        'async def on_fetch(request, env):\n    return await env.PYTHON_RPC.fetch("https://x/")\n',
    });
    const e = thrown(() => check(dir));
    expect(e.hint).toBe(
      'if PYTHON_RPC is another worker (a service binding), declare it in wrangler.toml:\n[[services]]\nbinding = "PYTHON_RPC"\nservice = "python-rpc"\nif it is the assets binding:\n[assets]\ndirectory = "./public"\nbinding = "PYTHON_RPC"',
    );
  });

  it('gives the [tool.pyworkers] block for a pyproject-only project', () => {
    const dir = project({
      'pyproject.toml': '[project]\nname = "t"\n',
      'src/entry.py': 'async def on_fetch(request, env):\n    await env["MY_KV"].put("a", "b")\n',
    });
    const e = thrown(() => check(dir));
    expect(e.message).toMatch(/^src\/entry\.py:2 calls env\.MY_KV\.put\(\)/);
    expect(e.hint).toContain('[[tool.pyworkers.kv_namespaces]]\nbinding = "MY_KV"\nid = "my-kv"');
  });

  it('passes declared bindings, vars read as strings, and bindings pyworkers only knows by name', () => {
    const dir = project({
      'wrangler.toml':
        'name = "t"\n[vars]\nGREETING = "hi"\n[[kv_namespaces]]\nbinding = "FOO"\n[[durable_objects.bindings]]\nname = "ROOM"\nclass_name = "Room"\n',
      'src/entry.py':
        'async def on_fetch(request, env):\n    await env.FOO.put("a", env.GREETING.upper())\n    env.ROOM.get(env.ROOM.idFromName("x"))\n',
    });
    expect(() => check(dir)).not.toThrow();
  });
});

describe('binding keys from flags and env vars', () => {
  it('replace the files lists and merge assets keys, flag over env over file', async () => {
    const { bindingOverrides } = await import('../internal/binding-flags.js');
    const dir = project({
      'wrangler.toml': `name = "t"\n[[kv_namespaces]]\nbinding = "OLD"\n[[d1_databases]]\nbinding = "DB"\n[assets]\ndirectory = "public"\nbinding = "ASSETS"\n[triggers]\ncrons = ["0 * * * *"]\n`,
      'src/entry.py': '',
      'public/index.html': '',
    });
    process.env.PYWORKERS_CRONS = '*/5 * * * *; 0 0 * * *';
    try {
      const over = bindingOverrides({ kv: ['CACHE=abc', 'SESSIONS'], 'html-handling': 'none' });
      const p = loadProject(dir, { ...(over ? { bindings: over } : {}) });
      expect(p.bindings.bindings).toEqual([
        { type: 'd1', name: 'DB', databaseName: 'DB' },
        { type: 'kv', name: 'CACHE', id: 'abc' },
        { type: 'kv', name: 'SESSIONS', id: 'SESSIONS' },
        { type: 'assets', name: 'ASSETS', directory: 'public' },
      ]);
      expect(p.bindings.assets).toMatchObject({ directory: 'public', htmlHandling: 'none' });
      expect(p.bindings.crons).toEqual(['*/5 * * * *', '0 0 * * *']);
    } finally {
      delete process.env.PYWORKERS_CRONS;
    }
  });

  it('refuse a bad value, saying which flag', async () => {
    const { bindingOverrides } = await import('../internal/binding-flags.js');
    expect(() => bindingOverrides({ r2: ['NOBUCKET'] })).toThrow(
      /--r2 "NOBUCKET" is not BINDING=BUCKET/,
    );
    const dir = project({ 'wrangler.toml': 'name = "t"\n', 'src/entry.py': '' });
    const e = thrown(() =>
      loadProject(dir, { bindings: bindingOverrides({ 'not-found-handling': 'sometimes' })! }),
    );
    expect(e.message).toMatch(/assets\.not_found_handling/);
    expect(() =>
      loadProject(dir, { bindings: bindingOverrides({ 'html-handling': 'none' })! }),
    ).toThrow(/assets options were given without an assets directory/);
  });
});

describe('Durable Object config', () => {
  const DO_JSONC = `{
  "name": "python-durable-object",
  "main": "src/entry.py",
  "durable_objects": {
    "bindings": [
      { "name": "LISTS", "class_name": "List" },
      { "name": "REMOTE", "class_name": "Counter", "script_name": "counter-worker" }
    ]
  },
  "migrations": [
    { "tag": "v1", "new_sqlite_classes": ["List", "Old"] },
    { "tag": "v2", "renamed_classes": [{ "from": "Old", "to": "Newer" }] },
    { "tag": "v3", "deleted_classes": ["Newer"] }
  ]
}`;
  const DO_TOML = `name = "t"
main = "src/entry.py"
[[durable_objects.bindings]]
name = "ROOMS"
class_name = "Room"
[[migrations]]
tag = "v1"
new_classes = ["Room"]
`;

  it('reads durable_objects.bindings and migrations from wrangler.jsonc and wrangler.toml', () => {
    const jsonc = loadProject(project({ 'wrangler.jsonc': DO_JSONC, 'src/entry.py': '' }));
    expect(jsonc.bindings.bindings).toEqual([
      { type: 'durable_object_namespace', name: 'LISTS', className: 'List' },
      {
        type: 'durable_object_namespace',
        name: 'REMOTE',
        className: 'Counter',
        scriptName: 'counter-worker',
      },
    ]);
    // Classes this worker defines: its own bindings' and what its migrations leave.
    expect(jsonc.bindings.durableObjects).toEqual({
      classes: ['List'],
      migrations: [
        { tag: 'v1', new_sqlite_classes: ['List', 'Old'] },
        { tag: 'v2', renamed_classes: [{ from: 'Old', to: 'Newer' }] },
        { tag: 'v3', deleted_classes: ['Newer'] },
      ],
    });
    const toml = loadProject(project({ 'wrangler.toml': DO_TOML, 'src/entry.py': '' }));
    expect(toml.bindings.bindings).toEqual([
      { type: 'durable_object_namespace', name: 'ROOMS', className: 'Room' },
    ]);
    expect(toml.bindings.durableObjects).toEqual({
      classes: ['Room'],
      migrations: [{ tag: 'v1', new_classes: ['Room'] }],
    });
  });

  it('fails the start when script_name names a worker that is not served', async () => {
    const client = project({
      'wrangler.toml':
        'name = "client"\nmain = "src/entry.py"\n[[durable_objects.bindings]]\nname = "ROOMS"\nclass_name = "Room"\nscript_name = "chat"\n',
      'src/entry.py': '',
    });
    const err = await workerDefinitions([client]).then(
      () => expect.unreachable('the start did not fail'),
      (e: unknown) => e as CliError,
    );
    expect(err.message).toBe(
      'worker "client": Durable Object binding ROOMS names class Room of worker "chat" (script_name), which is not served here (serving: "client")',
    );
    expect(err.hint).toMatch(/script_name to a served worker's name/);
  });

  it('refuses a class name that is not a Python identifier, saying where', () => {
    const dir = project({
      'wrangler.toml':
        'name = "t"\n[[durable_objects.bindings]]\nname = "R"\nclass_name = "my-room"\n',
      'src/entry.py': '',
    });
    const e = thrown(() => loadProject(dir));
    expect(`${e.message} ${e.where}`).toMatch(/class_name|Python identifier/);
  });
});

describe('service bindings', () => {
  it('read wrangler services (jsonc and toml) into service declarations', () => {
    const jsonc = project({
      'wrangler.jsonc':
        '{ "name": "client", "main": "src/entry.py",\n  "services": [{ "binding": "PYTHON_RPC", "service": "py-rpc-server" },\n    { "binding": "ADMIN", "service": "py-rpc-server", "entrypoint": "Admin" }] }',
      'src/entry.py': '',
    });
    expect(loadProject(jsonc).bindings.bindings).toEqual([
      { type: 'service', name: 'PYTHON_RPC', service: 'py-rpc-server' },
      { type: 'service', name: 'ADMIN', service: 'py-rpc-server', entrypoint: 'Admin' },
    ]);
    const toml = project({
      'wrangler.toml':
        'name = "client"\nmain = "src/entry.py"\n[[services]]\nbinding = "OTHER"\nservice = "other"\nentrypoint = "Api"\n',
      'src/entry.py': '',
    });
    expect(loadProject(toml).bindings.bindings).toEqual([
      { type: 'service', name: 'OTHER', service: 'other', entrypoint: 'Api' },
    ]);
  });

  it('refuse an entrypoint that is not a class name, with the line', () => {
    const dir = project({
      'wrangler.toml':
        'name = "c"\nmain = "src/entry.py"\n[[services]]\nbinding = "O"\nservice = "o"\nentrypoint = "not a class"\n',
      'src/entry.py': '',
    });
    const e = thrown(() => loadProject(dir));
    expect(e.message).toMatch(/entrypoint is a class name/);
    expect(e.where).toBe(`${join(dir, 'wrangler.toml')}:6`);
  });

  it('fail the start, before any build, when the service is not served', async () => {
    const client = project({
      'wrangler.toml':
        'name = "client"\nmain = "src/entry.py"\n[[services]]\nbinding = "PYTHON_RPC"\nservice = "py-rpc-server"\n',
      'src/entry.py': '',
    });
    const other = project({
      'wrangler.toml': 'name = "other"\nmain = "src/entry.py"\n',
      'src/entry.py': '',
    });
    const err = await workerDefinitions([client, other]).then(
      () => expect.unreachable('the start did not fail'),
      (e: unknown) => e as CliError,
    );
    expect(err).toBeInstanceOf(CliError);
    expect(err.message).toBe(
      'worker "client": service binding PYTHON_RPC calls worker "py-rpc-server", which is not served here (serving: "client", "other")',
    );
    expect(err.where).toBe(`${join(client, 'wrangler.toml')}:3`);
    expect(err.hint).toMatch(
      /serve it beside this one \(pyworkers serve .* <the project of "py-rpc-server">\)/,
    );
  });
});
