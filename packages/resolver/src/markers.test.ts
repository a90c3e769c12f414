import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { referencePython } from '../test/reference-python.js';
import { ResolverError } from './errors.js';
import { evaluateMarker, type MarkerEnvironment, pyodideMarkerEnvironment } from './markers.js';

const env: MarkerEnvironment = pyodideMarkerEnvironment({
  abi_version: '2026_0',
  arch: 'wasm32',
  platform: 'emscripten_5_0_3',
  python: '3.14.2',
});

describe('pyodideMarkerEnvironment', () => {
  it('describes Pyodide the way packaging does inside it', () => {
    expect(env).toMatchObject({
      python_version: '3.14',
      python_full_version: '3.14.2',
      sys_platform: 'emscripten',
      platform_system: 'Emscripten',
      platform_machine: 'wasm32',
      implementation_name: 'cpython',
      platform_python_implementation: 'CPython',
      platform_release: '5.0.3',
    });
  });
});

const CASES: [string, boolean][] = [
  ['sys_platform == "emscripten"', true],
  ["sys_platform != 'emscripten'", false],
  ['platform_system == "Windows"', false],
  ['sys_platform == "win32" or platform_machine == "wasm32"', true],
  ['python_version < "3.11"', false],
  ['python_version >= "3.14"', true],
  ['python_version > "3.9" and python_version < "3.15"', true],
  ['"3.8" <= python_version', true],
  ['python_full_version >= "3.14.1"', true],
  ['python_full_version < "3.14.0rc1"', false],
  ['python_version == "3.14.*"', true],
  ['python_version ~= "3.10"', true],
  ["platform_python_implementation == 'CPython' and python_version < '3.13'", false],
  ['implementation_name == "pypy"', false],
  ['"linux" in sys_platform', false],
  ['"emscripten" in sys_platform', true],
  ['"wasm" not in platform_machine', false],
  ['os_name == "nt"', false],
  ['sys.platform == "emscripten"', true],
  ['(python_version < "3.9" or sys_platform == "emscripten") and os_name == "posix"', true],
  ['python_version < "3.9" or sys_platform == "emscripten" and os_name == "nt"', false],
  ['', true],
];

describe('evaluateMarker', () => {
  it.each(CASES)('%s -> %s', (marker, expected) => {
    expect(evaluateMarker(marker, env)).toBe(expected);
  });

  it.skipIf(!referencePython('import pip._vendor.packaging.markers'))(
    "agrees with packaging (pip's vendored copy) on every case",
    () => {
      const script = `import json,sys
from pip._vendor.packaging.markers import Marker
env=json.loads(sys.argv[1]); env['extra']=''
print(json.dumps([Marker(m).evaluate(env) if m else True for m in json.loads(sys.argv[2])]))`;
      const markers = CASES.map(([m]) => m);
      const out = execFileSync('python3', [
        '-c',
        script,
        JSON.stringify(env),
        JSON.stringify(markers),
      ]);
      const theirs = JSON.parse(out.toString()) as boolean[];
      expect(markers.map((m) => evaluateMarker(m, env))).toEqual(theirs);
    },
  );

  it('matches extras after name normalisation, for any requested extra', () => {
    expect(evaluateMarker('extra == "socks"', env)).toBe(false);
    expect(evaluateMarker('extra == "socks"', env, ['socks'])).toBe(true);
    expect(evaluateMarker('extra == "use_chardet_on_py3"', env, ['use-chardet-on-py3'])).toBe(true);
    expect(evaluateMarker('extra == "http2"', env, ['socks', 'HTTP2'])).toBe(true);
    expect(
      evaluateMarker("platform_python_implementation == 'CPython' and extra == 'brotli'", env, [
        'brotli',
      ]),
    ).toBe(true);
    expect(evaluateMarker('python_version < "3.9" and extra == "x"', env, ['x'])).toBe(false);
  });

  it('rejects malformed markers with ERR_MARKER naming the marker', () => {
    for (const bad of [
      'python_version <',
      'python_version >= "3" and',
      'nonsense == "1"',
      '(python_version > "3"',
      'sys_platform >= "linux"',
    ]) {
      let err: unknown;
      try {
        evaluateMarker(bad, env);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ResolverError);
      expect((err as ResolverError).code).toBe('ERR_MARKER');
      expect((err as ResolverError).message).toContain(bad);
    }
  });
});
