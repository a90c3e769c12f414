import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('loadProject', () => {
  it('reads [tool.pyworkers] from pyproject.toml', () => {
    const dir = project({
      'pyproject.toml':
        '[project]\nname = "demo"\n[tool.pyworkers]\nvars = { A = "1" }\nroutes = ["/api", "api.example"]\n',
      'src/entry.py': '',
      'src/lib/util.py': '',
    });
    const p = loadProject(dir);
    expect(p).toMatchObject({ name: 'demo', main: 'src/entry.py', vars: { A: '1' } });
    expect(p.routes).toEqual([{ pathPrefix: '/api' }, { host: 'api.example' }]);
    const { files, mainModule } = projectFiles(p);
    expect(mainModule).toBe('entry');
    expect([...files.keys()].sort()).toEqual(['entry.py', 'lib/util.py']);
  });

  it('runs a Cloudflare layout: wrangler.toml, no [tool.pyworkers], with a warning per unknown key', () => {
    const dir = project({
      'pyproject.toml': '[project]\nname = "cf"\n',
      'wrangler.toml':
        'name = "cf-worker"\nmain = "src/entry.py"\ncompatibility_flags = ["python_workers"]\n[vars]\nX = 1\n[[kv_namespaces]]\nbinding = "KV"\n',
      'src/entry.py': '',
    });
    const p = loadProject(dir);
    expect(p).toMatchObject({ name: 'cf-worker', vars: { X: '1' } });
    expect(p.warnings).toEqual([
      'wrangler.toml key "kv_namespaces" is not supported by pyworkers and is ignored',
    ]);
  });

  it('says which key is wrong and how to fix it', () => {
    const dir = project({
      'pyproject.toml': '[project]\nname = "x"\n[tool.pyworkers]\nroutes = [3]\n',
      'src/entry.py': '',
    });
    try {
      loadProject(dir);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CliError);
      expect((e as CliError).message).toMatch(/^\[tool\.pyworkers\]\.routes\[0\]/);
      expect((e as CliError).where).toBe(join(dir, 'pyproject.toml'));
    }
    expect(() => loadProject(project({ 'pyproject.toml': '[project]\nname = "x"\n' }))).toThrow(
      /entry module src\/entry.py does not exist/,
    );
  });
});
