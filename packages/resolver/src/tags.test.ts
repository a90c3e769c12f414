import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { referencePython } from '../test/reference-python.js';
import { createTagPolicy, parseWheelFilename, pyodideTags } from './tags.js';

const info = {
  abi_version: '2026_0',
  arch: 'wasm32',
  platform: 'emscripten_5_0_3',
  python: '3.14.2',
};
const policy = createTagPolicy(info);

describe('parseWheelFilename', () => {
  it('expands compressed tag sets and reads the build tag', () => {
    expect(parseWheelFilename('six-1.17.0-py2.py3-none-any.whl')).toEqual({
      name: 'six',
      version: '1.17.0',
      tags: ['py2-none-any', 'py3-none-any'],
    });
    expect(parseWheelFilename('x-1.0-2b-cp314-cp314-a.b.whl')).toMatchObject({
      build: '2b',
      tags: ['cp314-cp314-a', 'cp314-cp314-b'],
    });
    expect(parseWheelFilename('x-1.0.tar.gz')).toBeNull();
    expect(parseWheelFilename('x-1.0-py3.whl')).toBeNull();
  });
});

describe('createTagPolicy', () => {
  it('accepts pure wheels and the pinned Pyodide platform, preferring the most specific', () => {
    const ranks = [
      'a-1-cp314-cp314-pyemscripten_2026_0_wasm32.whl',
      'a-1-cp314-cp314-pyodide_2026_0_wasm32.whl',
      'a-1-cp314-cp314-emscripten_5_0_3_wasm32.whl',
      'a-1-cp39-abi3-pyemscripten_2026_0_wasm32.whl',
      'a-1-py3-none-pyemscripten_2026_0_wasm32.whl',
      'a-1-cp314-none-any.whl',
      'a-1-py314-none-any.whl',
      'a-1-py3-none-any.whl',
      'a-1-py2.py3-none-any.whl',
      'a-1-py310-none-any.whl',
    ].map((f) => policy.rank(f));
    expect(ranks.every((r) => r !== null)).toBe(true);
    expect(ranks.slice(0, -2)).toEqual([...(ranks.slice(0, -2) as number[])].sort((x, y) => x - y));
    expect(pyodideTags(info)[0]).toBe('cp314-cp314-pyemscripten_2026_0_wasm32');
  });

  it.each([
    ['a-1.0.tar.gz', 'source distribution'],
    [
      'a-1.0-cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'native platform (manylinux_2_17_x86_64)',
    ],
    ['a-1.0-cp314-cp314-win_amd64.whl', 'native platform (win_amd64)'],
    ['a-1.0-cp39-abi3-pyodide_2024_0_wasm32.whl', 'Pyodide ABI 2024_0 (this Pyodide is 2026_0)'],
    [
      'a-1.0-cp312-cp312-emscripten_3_1_58_wasm32.whl',
      'Emscripten 3.1.58 (this Pyodide uses 5.0.3)',
    ],
    ['a-1.0-cp313-cp313-pyemscripten_2026_0_wasm32.whl', 'the cp313 ABI (Pyodide runs cp314)'],
    ['a-1.0-cp315-cp315-pyemscripten_2026_0_wasm32.whl', 'Python 3.15 (Pyodide has 3.14)'],
    ['a-1.0-py315-none-any.whl', 'Python 3.15'],
    ['a-1.0-py2-none-any.whl', 'Python 2 only'],
    ['a-1.0-pp310-pypy310_pp73-any.whl', 'another Python implementation (pp310)'],
    ['a-1.0.egg', 'egg'],
    ['broken.whl', 'not a valid wheel'],
  ])('rejects %s: %s', (file, why) => {
    const c = policy.check(file);
    expect(c.ok).toBe(false);
    expect(!c.ok && c.reason).toContain(why);
  });

  it.skipIf(!referencePython('import pip._vendor.packaging.tags'))(
    'lists the tags packaging.tags would, in the same order',
    () => {
      const script = `import json, sys
from pip._vendor.packaging import tags
plats = json.loads(sys.argv[1])
out = list(tags.cpython_tags((3, 14), abis=["cp314"], platforms=plats))
out += list(tags.compatible_tags((3, 14), interpreter="cp314", platforms=plats))
print(json.dumps([str(t) for t in out]))`;
      const plats = [
        'pyemscripten_2026_0_wasm32',
        'pyodide_2026_0_wasm32',
        'emscripten_5_0_3_wasm32',
      ];
      const theirs = JSON.parse(
        execFileSync('python3', ['-c', script, JSON.stringify(plats)]).toString(),
      );
      expect(pyodideTags(info)).toEqual(theirs);
    },
  );

  it('accepts every wheel in the pinned pyodide-lock.json', () => {
    const require = createRequire(import.meta.url);
    const lock = JSON.parse(readFileSync(require.resolve('pyodide/pyodide-lock.json'), 'utf8')) as {
      info: typeof info;
      packages: Record<string, { file_name: string }>;
    };
    const real = createTagPolicy(lock.info);
    const wheels = Object.values(lock.packages)
      .map((p) => p.file_name)
      .filter((f) => f.endsWith('.whl'));
    expect(wheels.length).toBeGreaterThan(200);
    expect(wheels.filter((f) => real.rank(f) === null)).toEqual([]);
  });
});
