// Every error the CLI promises: what is wrong, where (file:line or flag), how to fix it, and
// the exit code (1 user error, 2 internal). The real binary, piped: no colour, no progress.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from './helpers/run-cli.js';

const T = 60_000;
let root: string;

function project(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A user error: exit 1, and the three parts of the message. */
function expectUserError(run: CliRun, what: RegExp | string, where: RegExp | string, fix: RegExp) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).toBe('');
  const [first, ...rest] = run.stderr.trimEnd().split('\n');
  expect(first).toMatch(/^error: /);
  if (typeof what === 'string') expect(first).toBe(`error: ${what}`);
  else expect(first).toMatch(what);
  const whereLine = rest.find((l) => l.startsWith('  where: '));
  if (typeof where === 'string') expect(whereLine).toBe(`  where: ${where}`);
  else expect(whereLine).toMatch(where);
  expect(rest.find((l) => l.startsWith('  fix:   '))).toMatch(fix);
  // Piped output has no colour codes and no progress redraws.
  expect(run.stderr.includes('\u001b[')).toBe(false);
  expect(run.stderr.includes('\r')).toBe(false);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'pyw-cli-errors-'));
});

describe('error paths of the real binary', () => {
  it(
    'a bad [tool.pyworkers] value names the key path, the file line and the fix',
    async () => {
      const dir = project('bad-limits', {
        'pyproject.toml':
          '[project]\nname = "x"\n\n[tool.pyworkers]\nmain = "src/entry.py"\n\n[tool.pyworkers.limits]\nmemory_mb = "lots"\n',
        'src/entry.py': '',
      });
      expectUserError(
        await runCli(['build', dir]),
        '[tool.pyworkers].limits.memory_mb: expected a whole number of megabytes, e.g. 256',
        `${join(dir, 'pyproject.toml')}:8`,
        /change \[tool\.pyworkers\]\.limits\.memory_mb in pyproject\.toml/,
      );
    },
    T,
  );

  it(
    'an unknown key, a TOML syntax error and a bad route each point at their line',
    async () => {
      const typo = project('typo', {
        'pyproject.toml': '[project]\nname = "x"\n[tool.pyworkers]\nrouts = ["/a"]\n',
        'src/entry.py': '',
      });
      expectUserError(
        await runCli(['build'], { cwd: typo }),
        '[tool.pyworkers].routs: unknown key "routs"',
        `${join(typo, 'pyproject.toml')}:4`,
        /known keys: name, main, vars, routes, limits, compatibility/,
      );
      const syntax = project('syntax', {
        'pyproject.toml': '[project]\nname = "x"\n\n[tool.pyworkers\n',
      });
      expectUserError(
        await runCli(['build', '--cwd', syntax]),
        /^error: pyproject\.toml is not valid TOML/,
        new RegExp(`${join(syntax, 'pyproject.toml')}:4$`),
        /fix the TOML syntax/,
      );
      const route = project('route', {
        'wrangler.toml': 'name = "r"\nmain = "src/entry.py"\n',
        'pyproject.toml':
          '[project]\nname = "r"\n[tool.pyworkers]\nroutes = [\n  "/ok",\n  42,\n]\n',
        'src/entry.py': '',
      });
      expectUserError(
        await runCli(['serve', route, '--port', '0']),
        /^error: \[tool\.pyworkers\]\.routes\[1\]: expected a path prefix like "\/api"/,
        `${join(route, 'pyproject.toml')}:6`,
        /change \[tool\.pyworkers\]\.routes\[1\]/,
      );
    },
    T,
  );

  it(
    'flags and env vars override the file (flag > env > file), and their errors say so',
    async () => {
      const dir = project('override', {
        'pyproject.toml': '[project]\nname = "x"\n',
        'src/entry.py': '',
      });
      expectUserError(
        await runCli(['build', dir, '--memory-mb', 'many']),
        '--memory-mb must be a number, got "many"',
        '--memory-mb',
        /--memory-mb 512/,
      );
      expectUserError(
        await runCli(['build', dir], { env: { PYWORKERS_MEMORY_MB: '8' } }),
        'override limits.memory_mb: must be at least 16 (MB)',
        /the command line or PYWORKERS_\* environment/,
        /change override limits\.memory_mb/,
      );
      // The flag wins over the env var: 8 from env would fail, 64 from the flag passes
      // validation and the build goes on to fail on the missing entry module instead.
      expectUserError(
        await runCli(['build', dir, '--memory-mb', '64', '--main', 'nope.py'], {
          env: { PYWORKERS_MEMORY_MB: '8' },
        }),
        'the entry module nope.py does not exist',
        /the command line/,
        /--main/,
      );
      expectUserError(
        await runCli(['serve', dir, '--memory-budget', 'lots']),
        '--memory-budget must be a size above 0, got "lots"',
        '--memory-budget',
        /512MiB or 2GiB/,
      );
      expectUserError(
        await runCli(['build', dir, '--compatibility', 'python-3.9']),
        /asks for Python 3\.9, but this pyworkers runs Pyodide/,
        /the command line/,
        /set compatibility = "pyodide-\d+" or "python-3\.\d+"/,
      );
    },
    T,
  );

  it(
    'a Cloudflare wrangler.jsonc with a bad value points at its line',
    async () => {
      const dir = project('cf-bad', {
        'wrangler.jsonc':
          '{\n  // comment\n  "name": "cf",\n  "main": "src/entry.py",\n  "compatibility_date": "yesterday",\n}\n',
        'src/entry.py': '',
      });
      expectUserError(
        await runCli(['build', dir]),
        'wrangler.jsonc.compatibility_date: expected a date like "2025-11-01"',
        `${join(dir, 'wrangler.jsonc')}:5`,
        /change wrangler\.jsonc\.compatibility_date/,
      );
    },
    T,
  );

  it(
    'usage errors: unknown command, unknown flag, missing project, bad template, no such file',
    async () => {
      const unknown = await runCli(['biuld']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /^error: unknown command "biuld"\n {2}fix: {3}did you mean build\?/,
      );
      const flag = await runCli(['build', '--frobnicate']);
      expect(flag.code).toBe(1);
      expect(flag.stderr).toMatch(/^error: Unknown option '--frobnicate'/);
      expect(flag.stderr).toMatch(/fix: {3}run `pyworkers build --help` for its flags/);

      const empty = project('empty', { 'README.md': 'nothing here\n' });
      expectUserError(
        await runCli(['build'], { cwd: empty }),
        `no pyproject.toml or wrangler config in ${empty}`,
        empty,
        /run `pyworkers init` there/,
      );
      expectUserError(
        await runCli(['init', 'x', '--template', 'django'], { cwd: root }),
        'there is no template "django"',
        '--template',
        /use one of hello, asgi, wsgi/,
      );
      const existing = project('existing', { 'pyproject.toml': '[project]\nname = "e"\n' });
      expectUserError(
        await runCli(['init', existing]),
        `${existing} already has a pyproject.toml`,
        join(existing, 'pyproject.toml'),
        /new or empty directory/,
      );
      expectUserError(
        await runCli(['snapshot', 'inspect', join(existing, 'pyproject.toml')]),
        `${join(existing, 'pyproject.toml')} is neither a pyworkers bundle nor a snapshot`,
        join(existing, 'pyproject.toml'),
        /pass a \.pwb bundle or a snapshot file/,
      );
      expectUserError(
        await runCli(['snapshot', 'inspect', join(root, 'missing.pwb')]),
        `${join(root, 'missing.pwb')} does not exist`,
        join(root, 'missing.pwb'),
        /pyworkers build/,
      );
    },
    // Seven CLI runs one after another: ~9 s each on a loaded 2-core box.
    2 * T,
  );

  it(
    'remove of a missing dependency and add of a bad requirement leave pyproject.toml untouched',
    async () => {
      const text = '[project]\nname = "deps"\n# keep me\ndependencies = ["attrs"]\n';
      const dir = project('deps', { 'pyproject.toml': text, 'src/entry.py': '' });
      expectUserError(
        await runCli(['remove', 'flask', '--no-sync'], { cwd: dir }),
        '"flask" is not a dependency of this project',
        `${join(dir, 'pyproject.toml')}:4 ([project].dependencies)`,
        /the dependencies are: attrs/,
      );
      expectUserError(
        await runCli(['add', 'flask>>1', '--no-sync'], { cwd: dir }),
        /^error: invalid requirement "flask>>1"/,
        'argument "flask>>1"',
        /PEP 508 requirement/,
      );
      expect(readFileSync(join(dir, 'pyproject.toml'), 'utf8')).toBe(text);
      const ok = await runCli(['add', 'Flask>=3', '--no-sync', '--json'], { cwd: dir });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ added: ['Flask>=3'] });
      expect(readFileSync(join(dir, 'pyproject.toml'), 'utf8')).toBe(
        text.replace('["attrs"]', '["attrs", "Flask>=3"]'),
      );
      const removed = await runCli(['remove', 'flask', '--no-sync'], { cwd: dir });
      expect(removed.stdout).toBe('- Flask>=3\n');
      expect(readFileSync(join(dir, 'pyproject.toml'), 'utf8')).toBe(text);
    },
    T,
  );

  it(
    'serve of a file that is not a bundle says what to do',
    async () => {
      const bundle = join(root, 'fake.pwb');
      writeFileSync(bundle, 'not a bundle');
      expectUserError(
        await runCli(['serve', bundle, '--port', '0']),
        `${bundle}: not a pyworkers bundle`,
        bundle,
        /pass a project directory or a \.pwb made by `pyworkers build`/,
      );
    },
    T,
  );
});
