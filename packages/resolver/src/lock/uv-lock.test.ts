import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { PyodideLockInfo } from '../markers.js';
import { readPyprojectDependencies } from '../pyproject.js';
import { pyodidePlatform } from '../resolve/platform.js';
import { parseUvLock, uvLockInstallSet, uvLockMatches, uvLockPreferences } from './uv-lock.js';

const lockPath = createRequire(import.meta.url).resolve('pyodide/pyodide-lock.json');
const platform = pyodidePlatform(
  (JSON.parse(readFileSync(lockPath, 'utf8')) as { info: PyodideLockInfo }).info,
);
const H = (c: string) => `sha256:${c.repeat(64)}`;

const PYPROJECT = `
[project]
name = "Demo"
version = "0.1.0"
requires-python = ">=3.12"
dependencies = ["click>=8", "colorama; sys_platform == 'win32'"]
[project.optional-dependencies]
fast = ["orjson"]
`;

const UV_LOCK = `version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "click"
version = "8.2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "colorama", marker = "sys_platform == 'win32'" },
]
sdist = { url = "https://files.example/click-8.2.0.tar.gz", hash = "${H('1')}", size = 10 }
wheels = [
    { url = "https://files.example/click-8.2.0-py3-none-any.whl", hash = "${H('2')}", size = 98765, upload-time = "2025-05-10T22:21:01.417Z" },
]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.example/colorama-0.4.6-py2.py3-none-any.whl", hash = "${H('3')}", size = 25335 },
]

[[package]]
name = "demo"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "click" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
]

[package.optional-dependencies]
fast = [
    { name = "orjson" },
]

[package.metadata]
requires-dist = [
    { name = "click", specifier = ">=8" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "orjson", marker = "extra == 'fast'" },
]
provides-extras = ["fast"]

[[package]]
name = "orjson"
version = "3.10.15"
source = { registry = "https://pypi.org/simple" }
wheels = [
    { url = "https://files.example/orjson-3.10.15-cp314-cp314-manylinux_2_17_x86_64.whl", hash = "${H('4')}", size = 130000 },
]
`;

describe('uv.lock', () => {
  const project = readPyprojectDependencies(PYPROJECT);
  const lock = parseUvLock(UV_LOCK, '/p/uv.lock');

  it('matches the pyproject it was made from, and not an edited one', () => {
    expect(uvLockMatches(lock, project)).toEqual({ ok: true });
    const edited = readPyprojectDependencies(PYPROJECT.replace('click>=8', 'click>=8.1'));
    const m = uvLockMatches(lock, edited);
    expect(m.ok).toBe(false);
    expect(!m.ok && m.reason).toMatch(
      /out of date with pyproject\.toml \(new: click\[\]>=8\.1;.*gone: click\[\]>=8;/,
    );
  });

  it('gives the pins and hashes to install on Pyodide, markers evaluated', () => {
    const set = uvLockInstallSet(lock, 'demo', platform);
    expect(set).toEqual({
      ok: true,
      packages: [
        {
          name: 'click',
          version: '8.2.0',
          index: 'https://pypi.org/simple',
          dependencies: [],
          wheels: [
            {
              name: 'click-8.2.0-py3-none-any.whl',
              url: 'https://files.example/click-8.2.0-py3-none-any.whl',
              size: 98765,
              hashes: { sha256: '2'.repeat(64) },
            },
          ],
        },
      ],
    });
  });

  it('refuses a lock whose packages have no wheel for Pyodide', () => {
    const set = uvLockInstallSet(lock, 'demo', platform, ['fast']);
    expect(set).toEqual({
      ok: false,
      reason: '/p/uv.lock has no wheel of orjson 3.10.15 for Pyodide',
    });
    expect(uvLockPreferences(lock).get('orjson')).toBe('3.10.15');
  });

  it('explains a lock it cannot read', () => {
    expect(() => parseUvLock('version = 2\n', 'x/uv.lock')).toThrow(
      /x\/uv\.lock: lock format version 2 is not supported/,
    );
    expect(() => parseUvLock('version = "one"\n', 'x/uv.lock')).toThrow(/x\/uv\.lock: version:/);
  });
});
