// The real binary, end to end: init -> add (from a local index) -> build -> serve -> HTTP, the
// same for a Cloudflare-layout project, a .pwb bundle served as is, snapshot inspect, and dev
// (swap without dropping an in-flight request; tracebacks in the user's files).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IndexServer, startIndex } from './helpers/index-server.js';
import { type CliProcess, runCli, startCli } from './helpers/run-cli.js';
import { buildWheel } from './helpers/wheel.js';

const T = 240_000;
let root: string;
let index: IndexServer;
let app: string;
let cf: string;
let bundlePath: string;
const running: CliProcess[] = [];

async function waitFor<V>(
  fn: () => Promise<V | undefined>,
  what: string,
  ms = 120_000,
): Promise<V> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pyw-cli-e2e-'));
  const tinydep = buildWheel('tinydep', '2.0.0', { 'tinydep/__init__.py': 'VALUE = 42\n' });
  const tinylib = buildWheel(
    'tinylib',
    '1.0.0',
    {
      'tinylib/__init__.py':
        'from tinydep import VALUE\n\n\ndef shout(text):\n    return f"{text.upper()}! ({VALUE})"\n',
    },
    ['tinydep>=2'],
  );
  index = await startIndex([
    { project: 'tinydep', ...tinydep },
    { project: 'tinylib', ...tinylib },
  ]);
});

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  await index?.close();
});

function serve(args: string[]): CliProcess {
  const p = startCli(['serve', '--port', '0', '--json', ...args], { cwd: root });
  running.push(p);
  return p;
}

describe('pyworkers (the real binary)', () => {
  it(
    'init -> build -> serve -> HTTP',
    async () => {
      const init = await runCli(['init', 'app'], { cwd: root });
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      expect(init.stdout).toMatch(/created app \(hello\)/);
      app = join(root, 'app');
      for (const f of ['pyproject.toml', 'src/entry.py', '.gitignore'])
        expect(existsSync(join(app, f))).toBe(true);

      const build = await runCli(['build', '--json'], { cwd: app });
      expect(build.code, build.stderr).toBe(0);
      const result = JSON.parse(build.stdout) as {
        bundlePath: string;
        bytes: number;
        built: boolean;
        snapshot: { heapBytes: number; pythonVersion: string; importedModules: number };
      };
      expect(result.built).toBe(true);
      expect(result.bundlePath).toBe(join(app, '.pyworkers', 'app.pwb'));
      expect(result.bytes).toBe(readFileSync(result.bundlePath).length);
      expect(result.snapshot.heapBytes).toBeGreaterThan(1 << 20);
      expect(result.snapshot.pythonVersion).toMatch(/^3\.\d+/);
      bundlePath = result.bundlePath;
      const again = await runCli(['build'], { cwd: app });
      expect(again.stdout).toMatch(/^up to date app -> .*app\.pwb\n {2}bundle +[\d.]+ MiB/);
      // `build` ships `small`; a build asking for less compression (dev's `fast`) reuses it.
      expect(readFileSync(`${bundlePath}.inputs`, 'utf8')).toMatch(/^[0-9a-f]{64} small$/);
      const fast = await runCli(['build', '--encoding', 'fast'], { cwd: app });
      expect(fast.stdout).toMatch(/^up to date app/);
      const bad = await runCli(['build', '--encoding', 'tiny'], { cwd: app });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^error: --encoding must be small, compact or fast, got "tiny"/);

      const server = serve(['app']);
      const { url } = await server.ready;
      const res = await fetch(`${url}/`);
      expect(await res.text()).toBe('Hello from Python on pyworkers!\n');
      expect(res.status).toBe(200);
      await server.stop();
    },
    T,
  );

  it(
    'add from a local index (keeping comments) -> build -> serve -> HTTP',
    async () => {
      const dir = join(root, 'withdeps');
      expect((await runCli(['init', dir, '--name', 'withdeps'])).code).toBe(0);
      // A comment in the file must survive the edit.
      const pyproject = readFileSync(join(dir, 'pyproject.toml'), 'utf8').replace(
        'dependencies = []',
        'dependencies = [] # managed by pyworkers add',
      );
      writeFileSync(join(dir, 'pyproject.toml'), pyproject);
      const add = await runCli(['add', 'tinylib>=1', '--index-url', index.url], {
        cwd: dir,
        env: { PYWORKERS_CACHE_DIR: join(root, 'cache') },
      });
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toMatch(/\+ tinylib>=1/);
      expect(add.stdout).toMatch(/tinydep==2\.0\.0/);
      const edited = readFileSync(join(dir, 'pyproject.toml'), 'utf8');
      expect(edited).toContain('dependencies = [\n    "tinylib>=1",\n] # managed by pyworkers add');
      expect(edited.replace(/dependencies = \[[^\]]*\]/, 'dependencies = []')).toBe(pyproject);
      expect(existsSync(join(dir, 'pylock.toml'))).toBe(true);
      expect(existsSync(join(dir, 'python_modules', 'tinylib', '__init__.py'))).toBe(true);

      writeFileSync(
        join(dir, 'src', 'entry.py'),
        [
          'import tinylib',
          'from workers import Response, WorkerEntrypoint',
          '',
          'LOUD = tinylib.shout("built")',
          '',
          '',
          'class Default(WorkerEntrypoint):',
          '    async def fetch(self, request):',
          '        return Response(f"{self.env.GREETING} {LOUD}")',
          '',
        ].join('\n'),
      );
      // build syncs first when python_modules/ is missing.
      rmSync(join(dir, 'python_modules'), { recursive: true });
      const build = await runCli(['build', '--json', '--index-url', index.url], {
        cwd: dir,
        env: { PYWORKERS_CACHE_DIR: join(root, 'cache') },
      });
      expect(build.code, build.stderr).toBe(0);
      expect(
        JSON.parse(build.stdout)
          .sync.packages.map((p: { name: string }) => p.name)
          .sort(),
      ).toEqual(['tinydep', 'tinylib']);
      const server = serve(['withdeps']);
      const { url } = await server.ready;
      expect(await (await fetch(`${url}/`)).text()).toBe('Hello BUILT! (42)');
      await server.stop();

      // A requirement the index cannot satisfy: exit 1, and pyproject.toml is put back.
      const before = readFileSync(join(dir, 'pyproject.toml'), 'utf8');
      const bad = await runCli(['add', 'tinylib>=9', '--index-url', index.url], {
        cwd: dir,
        env: { PYWORKERS_CACHE_DIR: join(root, 'cache') },
      });
      expect(bad.code, bad.stderr).toBe(1);
      expect(bad.stderr).toMatch(/^error: no set of versions satisfies/);
      expect(bad.stderr).toMatch(/needs tinylib>=9, but no usable version of tinylib matches/);
      expect(bad.stderr).toContain(
        `\n  where: ${join(dir, 'pyproject.toml')}:6 ([project].dependencies)\n  fix:   loosen or change the conflicting requirements`,
      );
      expect(readFileSync(join(dir, 'pyproject.toml'), 'utf8')).toBe(before);

      const removed = await runCli(['remove', 'tinylib', '--index-url', index.url], {
        cwd: dir,
        env: { PYWORKERS_CACHE_DIR: join(root, 'cache') },
      });
      expect(removed.code, removed.stderr).toBe(0);
      expect(readFileSync(join(dir, 'pyproject.toml'), 'utf8')).toBe(pyproject);
      expect(existsSync(join(dir, 'python_modules', 'tinylib'))).toBe(false);
      const inspect = await runCli([
        'snapshot',
        'inspect',
        '--json',
        join(dir, '.pyworkers', 'withdeps.pwb'),
      ]);
      expect(JSON.parse(inspect.stdout).snapshot.meta.importedModules).toContain('tinylib');
    },
    T,
  );

  it(
    'runs a Cloudflare project unchanged (wrangler.jsonc, no [tool.pyworkers]) next to a .pwb bundle, warning per unsupported key',
    async () => {
      cf = join(root, 'cf');
      mkdirSync(join(cf, 'src'), { recursive: true });
      writeFileSync(
        join(cf, 'wrangler.jsonc'),
        `// A Cloudflare Python Worker
{
  "name": "cf-worker",
  "main": "src/entry.py",
  "compatibility_date": "2025-11-01",
  "compatibility_flags": ["python_workers"],
  "vars": { "GREETING": "hi from wrangler", },
  "ai": { "binding": "AI" },
}
`,
      );
      // Cloudflare's projects depend on their SDK package, which the runtime provides here.
      writeFileSync(
        join(cf, 'pyproject.toml'),
        '[project]\nname = "cf-worker"\nversion = "0.1.0"\nrequires-python = ">=3.12"\ndependencies = ["workers-runtime-sdk>=1.1.1"]\n\n[dependency-groups]\ndev = ["workers-py", "workers-runtime-sdk"]\n',
      );
      // Handlers are called by their signature, as on Cloudflare: this fetch takes no request.
      writeFileSync(
        join(cf, 'src', 'entry.py'),
        'from workers import Response, WorkerEntrypoint\n\n\nclass Default(WorkerEntrypoint):\n    async def fetch(self):\n        return Response(self.env.GREETING)\n',
      );
      // Served next to the .pwb built above (each at /<name>/), with human output this time
      // (the terminal's format, asked for since a test's pipe would get JSON): warnings are
      // lines a person reads.
      const server = startCli(['serve', '--port', '0', bundlePath, 'cf'], {
        cwd: root,
        env: { PYWORKERS_LOG_FORMAT: 'pretty' },
      });
      running.push(server);
      const { url } = await server.ready;
      expect(server.stdout()).toMatch(/^ {2}app +\/app\n {2}cf-worker +\/cf-worker$/m);
      expect(await (await fetch(`${url}/cf-worker/`)).text()).toBe('hi from wrangler');
      expect(await (await fetch(`${url}/app/`)).text()).toBe('Hello from Python on pyworkers!\n');
      expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
      expect(server.stderr()).toContain(
        `warning [cf-worker] ${join(cf, 'wrangler.jsonc')}:8: wrangler.jsonc key "ai" is not supported by pyworkers and is ignored`,
      );
      expect(server.stdout() + server.stderr()).toContain(
        'workers-runtime-sdk>=1.1.1: provided by the pyworkers runtime (not installed)',
      );
      await server.stop();
    },
    T,
  );

  // The asgi/wsgi adapters come with the isolate SDK (issue 4); the templates need them.
  it(
    'init --template asgi and --template wsgi serve at once',
    async () => {
      const dirs = ['asgi', 'wsgi'].map((t) => join(root, `tpl-${t}`));
      for (const [k, t] of ['asgi', 'wsgi'].entries()) {
        const init = await runCli(['init', dirs[k]!, '--template', t]);
        expect(init.code, init.stderr).toBe(0);
      }
      // Two builds at once: each is one Pyodide boot on its own core.
      const builds = await Promise.all(dirs.map((d) => runCli(['build', d, '--json'])));
      for (const b of builds) expect(b.code, b.stderr).toBe(0);
      const server = serve(builds.map((b) => JSON.parse(b.stdout).bundlePath as string));
      const { url } = await server.ready;
      expect(await (await fetch(`${url}/tpl-asgi/hello`)).text()).toBe(
        'GET /tpl-asgi/hello: hello from ASGI\n',
      );
      expect(await (await fetch(`${url}/tpl-wsgi/hello`)).text()).toBe(
        'GET /tpl-wsgi/hello: hello from WSGI\n',
      );
      await server.stop();
    },
    T,
  );

  it('snapshot inspect reads a bundle, as text and as JSON', async () => {
    const text = await runCli(['snapshot', 'inspect', bundlePath]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/worker +app \(main module entry\)/);
    expect(text.stdout).toMatch(/snapshot +dedicated/);
    expect(text.stdout).toMatch(/Python 3\.\d+/);
    const json = await runCli(['snapshot', 'inspect', bundlePath, '--json']);
    const report = JSON.parse(json.stdout) as {
      kind: string;
      bundle: { name: string; files: number };
      snapshot: { meta: { kind: string; importedModules: string[] } };
    };
    expect(report.kind).toBe('bundle');
    expect(report.bundle.name).toBe('app');
    expect(report.snapshot.meta.kind).toBe('dedicated');
    expect(report.snapshot.meta.importedModules).toContain('entry');
  }, 60_000);

  it(
    'dev swaps a rebuilt worker in without dropping an in-flight request, and maps tracebacks to the user file',
    async () => {
      // Starts on the hello build made above (up to date: no build), then swaps in v2.
      const dev = startCli(['dev', '--port', '0'], {
        cwd: app,
        env: { PYWORKERS_LOG_FORMAT: 'pretty' },
      });
      running.push(dev);
      const { url } = await dev.ready;
      const hello = 'Hello from Python on pyworkers!\n';
      expect(await (await fetch(`${url}/`)).text()).toBe(hello);

      // A request whose body is still arriving is in flight on the v1 build.
      const req = request({
        host: '127.0.0.1',
        port: new URL(url).port,
        method: 'POST',
        path: '/',
        headers: { 'content-length': 4 },
      });
      const inflight = new Promise<{ status: number; body: string }>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
      });
      req.write('ab');

      const entry = join(app, 'src', 'entry.py');
      writeFileSync(
        entry,
        [
          'from workers import Response, WorkerEntrypoint',
          '',
          'VERSION = "v2"',
          '',
          '',
          'class Default(WorkerEntrypoint):',
          '    async def fetch(self, request):',
          '        if request.url.endswith("/boom"):',
          '            # the next line raises',
          '            raise ValueError("boom from the worker")',
          '        return Response(f"{self.env.GREETING} {VERSION}")',
          '',
        ].join('\n'),
      );
      const body = await waitFor(async () => {
        const t = await (await fetch(`${url}/`)).text();
        return t.includes('v2') ? t : undefined;
      }, 'the v2 build to be swapped in');
      expect(body).toBe('Hello v2');
      req.end('cd');
      expect(await inflight).toEqual({ status: 200, body: hello });

      const boom = await fetch(`${url}/boom`);
      expect(boom.status).toBe(500);
      await waitFor(
        async () => (dev.stderr().includes('ValueError: boom from the worker') ? true : undefined),
        'the traceback',
        10_000,
      );
      expect(dev.stderr()).toContain(`File "${entry}", line 10, in fetch`);
      expect(dev.stderr()).not.toContain('/session/worker/entry.py');
      expect(await dev.stop()).toBe(0);
    },
    T,
  );
});
