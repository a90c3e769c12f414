import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYODIDE_VERSION } from '@pyworkers/isolate';
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { loadProject, projectFiles } from './project.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pyw-project-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function configError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return e as CliError;
  }
  return expect.unreachable('no error was thrown');
}

describe('loadProject', () => {
  it('reads [tool.pyworkers] from pyproject.toml, with limits defaulted', () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "demo"\ndependencies = ["a>=1"]\n[tool.pyworkers]\nvars = { A = "1", N = 2 }\nroutes = ["/api", "api.example", "x.example/v1", { host = "h", path = "/p" }]\n',
      'src/entry.py': '',
      'src/lib/util.py': '',
    });
    const p = loadProject(dir);
    expect(p).toMatchObject({
      name: 'demo',
      main: 'src/entry.py',
      vars: { A: '1', N: '2' },
      limits: { requestTimeoutMs: 30000, memoryMb: 256 },
      dependencies: ['a>=1'],
    });
    expect(p.routes).toEqual([
      { pathPrefix: '/api' },
      { host: 'api.example' },
      { host: 'x.example', pathPrefix: '/v1' },
      { host: 'h', pathPrefix: '/p' },
    ]);
    const { files, mainModule } = projectFiles(p);
    expect(mainModule).toBe('entry');
    expect([...files.keys()].sort()).toEqual(['entry.py', 'lib/util.py']);
  });

  it('applies overrides over the file: flag/env > config', () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "demo"\n[tool.pyworkers]\nvars = { A = "1", B = "2" }\n[tool.pyworkers.limits]\nmemory_mb = 128\n',
      'src/entry.py': '',
    });
    const p = loadProject(dir, { name: 'other', vars: { B: 'x' }, memoryMb: 512, routes: ['/r'] });
    expect(p).toMatchObject({
      name: 'other',
      vars: { A: '1', B: 'x' },
      limits: { memoryMb: 512, requestTimeoutMs: 30000 },
      routes: [{ pathPrefix: '/r' }],
    });
  });

  it("keeps the file's limits when no override sets them (no default wins over the file)", () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "demo"\n[tool.pyworkers.limits]\nrequest_timeout_ms = 2000\nmemory_mb = 64\n',
      'src/entry.py': '',
    });
    expect(loadProject(dir).limits).toEqual({ requestTimeoutMs: 2000, memoryMb: 64 });
    expect(loadProject(dir, { memoryMb: 512 }).limits).toEqual({
      requestTimeoutMs: 2000,
      memoryMb: 512,
    });
    expect(loadProject(dir, { requestTimeoutMs: 500 }).limits).toEqual({
      requestTimeoutMs: 500,
      memoryMb: 64,
    });
  });

  it('runs a Cloudflare layout: wrangler.toml, no [tool.pyworkers], one warning per unknown key', () => {
    const dir = project({
      'pyproject.toml': '[project]\nname = "cf"\n',
      'wrangler.toml':
        'name = "cf-worker"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\ncompatibility_date = "2025-11-01"\n[vars]\nX = 1\n[ai]\nbinding = "AI"\n',
      'src/entry.py': '',
    });
    const p = loadProject(dir);
    expect(p).toMatchObject({
      name: 'cf-worker',
      vars: { X: '1' },
      compatibilityFlags: ['python_workers'],
      compatibilityDate: '2025-11-01',
    });
    expect(p.warnings).toEqual([
      `${join(dir, 'wrangler.toml')}:7: wrangler.toml key "ai" is not supported by pyworkers and is ignored`,
    ]);
  });

  it('reads wrangler.jsonc with comments and trailing commas', () => {
    const dir = project({
      'wrangler.jsonc': `{
  // the worker
  "name": "jsonc-worker", /* inline */
  "main": "src/entry.py",
  "compatibility_flags": ["python_workers",],
  "vars": { "GREETING": "hi", },
  "routes": [{ "pattern": "example.com/api/*", "zone_name": "example.com" }],
  "ai": { "binding": "AI" },
}
`,
      'src/entry.py': '',
    });
    const p = loadProject(dir);
    expect(p).toMatchObject({ name: 'jsonc-worker', vars: { GREETING: 'hi' } });
    expect(p.routes).toEqual([{ host: 'example.com', pathPrefix: '/api/' }]);
    expect(p.warnings).toEqual([
      `${join(dir, 'wrangler.jsonc')}:8: wrangler.jsonc key "ai" is not supported by pyworkers and is ignored`,
    ]);
  });

  it('names the file, key path and line of a bad value, and how to fix it', () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "x"\n\n[tool.pyworkers]\nroutes = [\n  "/ok",\n  3,\n]\n',
      'src/entry.py': '',
    });
    const e = configError(() => loadProject(dir));
    expect(e.message).toMatch(/^\[tool\.pyworkers\]\.routes\[1\]: expected a path prefix/);
    expect(e.where).toBe(`${join(dir, 'pyproject.toml')}:7`);
    expect(e.hint).toMatch(/change \[tool\.pyworkers\]\.routes\[1\] in pyproject\.toml/);
  });

  it('points at the line of a bad limit and of an unknown key', () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "x"\n[tool.pyworkers]\nmain = "src/entry.py"\n\n[tool.pyworkers.limits]\nrequest_timeout_ms = 100\nmemory_mb = "lots"\n',
      'src/entry.py': '',
    });
    const e = configError(() => loadProject(dir));
    expect(e.message).toBe(
      '[tool.pyworkers].limits.memory_mb: expected a whole number of megabytes, e.g. 256',
    );
    expect(e.where).toBe(`${join(dir, 'pyproject.toml')}:8`);

    const typo = project({
      'pyproject.toml': '[project]\nname = "x"\n[tool.pyworkers]\nmian = "src/entry.py"\n',
      'src/entry.py': '',
    });
    const e2 = configError(() => loadProject(typo));
    expect(e2.message).toBe('[tool.pyworkers].mian: unknown key "mian"');
    expect(e2.where).toBe(`${join(typo, 'pyproject.toml')}:4`);
    expect(e2.hint).toMatch(/known keys: name, main, vars, routes, limits, compatibility/);
  });

  it('reports TOML and JSONC syntax errors with their line', () => {
    const bad = project({ 'pyproject.toml': '[project]\nname = "x"\nvars = {\n' });
    const e = configError(() => loadProject(bad));
    expect(e.message).toMatch(/pyproject\.toml is not valid TOML/);
    expect(e.where).toMatch(/pyproject\.toml:\d+$/);
    const badJson = project({
      'wrangler.jsonc': '{\n  "name": "a",\n  "main" "src/entry.py"\n}\n',
    });
    const e2 = configError(() => loadProject(badJson));
    expect(e2.message).toMatch(/wrangler\.jsonc is not valid JSON/);
    expect(e2.where).toBe(`${join(badJson, 'wrangler.jsonc')}:3`);
  });

  it('checks compatibility against the pinned Pyodide', () => {
    const major = PYODIDE_VERSION.split('.')[0];
    const ok = project({
      'pyproject.toml': `[project]\nname = "x"\n[tool.pyworkers]\ncompatibility = "pyodide-${major}"\n`,
      'src/entry.py': '',
    });
    expect(loadProject(ok).compatibility).toBe(`pyodide-${major}`);
    const old = project({
      'pyproject.toml': '[project]\nname = "x"\n[tool.pyworkers]\ncompatibility = "python-3.9"\n',
      'src/entry.py': '',
    });
    const e = configError(() => loadProject(old));
    expect(e.message).toMatch(/asks for Python 3\.9, but this pyworkers runs Pyodide/);
    expect(e.where).toBe(`${join(old, 'pyproject.toml')}:4`);
  });

  it('says when the entry module or the name is missing', () => {
    const e = configError(() =>
      loadProject(project({ 'pyproject.toml': '[project]\nname = "x"\n' })),
    );
    expect(e.message).toBe('the entry module src/entry.py does not exist');
    const dir = project({
      'pyproject.toml': '[project]\nversion = "1"\n[tool.pyworkers]\nmain = "app.py"\n',
      'app.py': '',
    });
    expect(configError(() => loadProject(dir)).message).toBe('the worker has no name');
    expect(configError(() => loadProject(dir, { name: 'bad name!' })).message).toMatch(
      /override\.name: use letters/,
    );
  });
});
