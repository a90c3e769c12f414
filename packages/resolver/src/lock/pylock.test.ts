import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatPylock, type Pylock, parsePylock, readPylock, writePylock } from './pylock.js';

const LOCK: Pylock = {
  createdBy: 'pyworkers',
  requiresPython: '>=3.12',
  environments: ["sys_platform == 'emscripten' and platform_machine == 'wasm32'"],
  packages: [
    {
      name: 'numpy',
      version: '2.4.6',
      dependencies: [],
      wheels: [
        {
          name: 'numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl',
          url: 'https://cdn.example/pyodide/v314.0.7/full/numpy-2.4.6-cp314-cp314-pyemscripten_2026_0_wasm32.whl',
          hashes: { sha256: 'a2'.repeat(32) },
        },
      ],
    },
    {
      name: 'flask',
      version: '3.1.0',
      index: 'https://pypi.org/simple',
      requiresPython: '>=3.9',
      dependencies: ['click', 'werkzeug'],
      wheels: [
        {
          name: 'flask-3.1.0-py3-none-any.whl',
          url: 'https://files.example/flask-3.1.0-py3-none-any.whl',
          size: 102400,
          hashes: { sha256: 'ab'.repeat(32) },
        },
      ],
    },
  ],
  inputs: {
    requirements: ['flask>=3', 'numpy'],
    indexes: ['https://pypi.org/simple', 'pyodide-lock:314.0.7'],
    strategy: 'unsafe-best-match',
    pyodide: '314.0.7',
  },
};

describe('pylock.toml', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('writes PEP 751 fields in a stable layout', () => {
    const text = formatPylock(LOCK);
    expect(text.startsWith('lock-version = "1.0"\n')).toBe(true);
    expect(text).toContain('created-by = "pyworkers"');
    expect(text).toContain('requires-python = ">=3.12"');
    // Packages are sorted, each with its index and an inline wheel table carrying hashes.
    expect(text.indexOf('name = "flask"')).toBeLessThan(text.indexOf('name = "numpy"'));
    expect(text).toContain('index = "https://pypi.org/simple"');
    expect(text).toContain(
      `    { name = "flask-3.1.0-py3-none-any.whl", url = "https://files.example/flask-3.1.0-py3-none-any.whl", size = 102400, hashes = { sha256 = "${'ab'.repeat(32)}" } },`,
    );
    expect(text).toContain(
      'dependencies = [\n    { name = "click" },\n    { name = "werkzeug" },\n]',
    );
    expect(text).toContain('[tool.pyworkers]');
    expect(formatPylock(LOCK)).toBe(text);
  });

  it('reads back what it wrote', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pylock-'));
    dirs.push(dir);
    const path = join(dir, 'pylock.toml');
    expect(await readPylock(path)).toBeNull();
    await writePylock(path, LOCK);
    expect(await readdir(dir)).toEqual(['pylock.toml']);
    const back = await readPylock(path);
    expect(back).toEqual({
      ...LOCK,
      packages: [...LOCK.packages].sort((a, b) => a.name.localeCompare(b.name)),
    });
    expect(formatPylock(back!)).toBe(await readFile(path, 'utf8'));
  });

  it('reads the example lock of PEP 751 shape written by other tools', () => {
    const lock = parsePylock(`
lock-version = '1.0'
environments = ["sys_platform == 'win32'", "sys_platform == 'linux'"]
requires-python = '==3.12'
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>=3.8'

    [[packages.wheels]]
    name = 'attrs-25.1.0-py3-none-any.whl'
    upload-time = 2025-01-25T11:30:10.164985+00:00
    url = 'https://files.pythonhosted.org/packages/fc/30/attrs-25.1.0-py3-none-any.whl'
    size = 63152
    hashes = {sha256 = 'c75a69e28a550a7e93789579c22aa26b0f5b83b75dc4e08fe092980051e1090a'}
`);
    expect(lock.packages[0]).toMatchObject({
      name: 'attrs',
      version: '25.1.0',
      wheels: [{ name: 'attrs-25.1.0-py3-none-any.whl', size: 63152 }],
    });
    expect(lock.inputs).toBeUndefined();
  });

  it('names the bad part of a broken lock', () => {
    expect(() => parsePylock('lock-version = "2.0"\ncreated-by = "x"\n', 'p/pylock.toml')).toThrow(
      /p\/pylock\.toml: lock-version: only lock-version 1\.x is understood/,
    );
    expect(() =>
      parsePylock(
        'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\nversion = "1"\nwheels = [{ url = "u", hashes = {} }]\n',
      ),
    ).toThrow(/packages\[0\]\.wheels\[0\] has no hashes/);
    expect(() => parsePylock('lock-version = ')).toThrow(/is not valid TOML/);
  });
});
