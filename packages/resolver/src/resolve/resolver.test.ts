import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CATALOGUE,
  type IndexServer,
  PYODIDE_TAG,
  startIndexServer,
} from '../../test/fixtures/index.js';
import { Downloader } from '../download.js';
import type { ResolverError } from '../errors.js';
import type { PyodideLockInfo } from '../markers.js';
import { SimpleIndexSource } from '../package-index/simple-index.js';
import { PyodideLockSource, readPyodideLock } from '../pyodide-lock.js';
import { parseRequirement } from '../requirement.js';
import type { PackageSource } from '../source.js';
import { type MemoryProject, MemorySource } from './memory-source.js';
import { pyodidePlatform } from './platform.js';
import { type Resolution, resolve } from './resolver.js';
import type { IndexStrategy } from './types.js';

const lockPath = createRequire(import.meta.url).resolve('pyodide/pyodide-lock.json');
const info = (JSON.parse(readFileSync(lockPath, 'utf8')) as { info: PyodideLockInfo }).info;
const platform = pyodidePlatform(info);
let catalogue: PackageSource = new MemorySource('catalogue', CATALOGUE);

function run(
  requirements: string[],
  opts: {
    sources?: PackageSource[];
    strategy?: IndexStrategy;
    preferences?: Map<string, string>;
    maxSteps?: number;
  } = {},
): Promise<Resolution> {
  return resolve({
    requirements: requirements.map(parseRequirement),
    sources: {
      sources: opts.sources ?? [catalogue],
      strategy: opts.strategy ?? 'unsafe-best-match',
    },
    platform,
    ...(opts.preferences ? { preferences: opts.preferences } : {}),
    ...(opts.maxSteps ? { maxSteps: opts.maxSteps } : {}),
    rootName: 'demo',
  });
}
const pins = (r: Resolution) => Object.fromEntries(r.packages.map((p) => [p.name, p.version]));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => expect.unreachable('resolve should fail'),
    (e: ResolverError) => e,
  );

// The same behaviour whether the catalogue is read from memory or from a real index on
// 127.0.0.1 speaking PEP 691 JSON or PEP 503 HTML (metadata from PEP 658 files).
describe.each([['memory'], ['json'], ['html']] as const)('resolve (%s source)', (kind) => {
  let server: IndexServer | undefined;
  let cache: string | undefined;
  beforeAll(async () => {
    if (kind === 'memory') {
      catalogue = new MemorySource('catalogue', CATALOGUE);
      return;
    }
    cache = await mkdtemp(join(tmpdir(), 'resolver-cache-'));
    server = await startIndexServer({ projects: CATALOGUE, formats: [kind] });
    catalogue = new SimpleIndexSource({
      url: server.url,
      name: 'catalogue',
      downloader: new Downloader({ cacheDir: cache }),
    });
  });
  afterAll(async () => {
    await server?.close();
    if (cache) await rm(cache, { recursive: true, force: true });
  });

  it('picks the newest final versions and skips markers that are false on Pyodide', async () => {
    const r = await run(['flask']);
    expect(pins(r)).toEqual({
      blinker: '1.9.0',
      click: '8.2.0',
      flask: '3.1.0',
      itsdangerous: '2.2.0',
      jinja2: '3.1.5',
      markupsafe: '3.0.2',
      werkzeug: '3.1.3',
    });
    expect(r.packages.find((p) => p.name === 'flask')!.dependencies).toEqual([
      'blinker',
      'click',
      'itsdangerous',
      'jinja2',
      'werkzeug',
    ]);
  });

  it('follows extras, including extras of dependencies', async () => {
    const r = await run(['httpx[http2]']);
    expect(pins(r)).toMatchObject({
      httpx: '0.28.1',
      h2: '4.1.0',
      hpack: '4.0.0',
      hyperframe: '6.0.1',
    });
    expect(r.packages.find((p) => p.name === 'httpx')!.extras).toEqual(['http2']);
    expect(pins(await run(['httpx']))).not.toHaveProperty('h2');
  });

  it('evaluates markers for Pyodide', async () => {
    const r = pins(await run(['emscripten-shim']));
    expect(r).toHaveProperty('pyodide-http');
    expect(r).not.toHaveProperty('requests');
    expect(r).not.toHaveProperty('tomli');
  });

  it('takes pre-releases only when asked for or when there is nothing else', async () => {
    expect(pins(await run(['typing-extensions']))['typing-extensions']).toBe('4.12.2');
    expect(pins(await run(['typing-extensions>=4.13.0rc1']))['typing-extensions']).toBe(
      '4.13.0rc1',
    );
    expect(pins(await run(['nightly-tool']))['nightly-tool']).toBe('0.2.0b2');
    expect(pins(await run(['flask'])).flask).toBe('3.1.0');
  });

  it('skips yanked releases unless pinned with ==', async () => {
    expect(pins(await run(['urllib3'])).urllib3).toBe('2.2.3');
    expect(pins(await run(['urllib3==2.3.0'])).urllib3).toBe('2.3.0');
    const e = await failure(run(['urllib3>=2.3']));
    expect(e.code).toBe('ERR_NO_SOLUTION');
    expect(e.message).toContain(
      'demo needs urllib3>=2.3, but the only matching versions are held back: 2.3.0 is yanked (Broke proxies; use 2.2.3); pin it with == to use it anyway',
    );
  });

  it('honours requires-python of each release', async () => {
    expect(pins(await run(['future-only']))['future-only']).toBe('1.5.0');
  });

  it('explains a conflict as a chain in plain words', async () => {
    const e = await failure(run(['fastapi==0.92.0', 'starlette>=0.27']));
    expect(e.code).toBe('ERR_NO_SOLUTION');
    expect(e.message).toContain(
      'demo needs starlette>=0.27, but fastapi 0.92.0 needs starlette<0.26.0,>=0.25.0: no version of starlette satisfies both',
    );
    const p = await failure(run(['legacy-rpc', 'modern-rpc>=2.1']));
    expect(p.message).toMatch(
      /legacy-rpc 1\.4\.0 needs protobuf<4,>=3\.19.*modern-rpc 2\.1\.0 needs protobuf>=5\.26/,
    );
  });

  it('says how a transitive requirement came in', async () => {
    const src = new MemorySource('deep', [
      { name: 'a', releases: [{ version: '1.0', requiresDist: ['c>=2'] }] },
      { name: 'b', releases: [{ version: '1.0', requiresDist: ['d'] }] },
      { name: 'd', releases: [{ version: '1.0', requiresDist: ['c<2'] }] },
      { name: 'c', releases: [{ version: '1.0' }, { version: '2.0' }] },
    ]);
    const e = await failure(run(['a', 'b'], { sources: [src] }));
    expect(e.message).toContain(
      'd 1.0 (pulled in by b 1.0) needs c<2, but c 2.0 was already chosen (a 1.0 needs c>=2)',
    );
  });

  it('backtracks to an older release when the newest conflicts', async () => {
    const r = pins(await run(['fastapi', 'starlette<0.41']));
    expect(r.fastapi).toBe('0.92.0');
    expect(r.pydantic).toBe('1.10.19');
  });

  it('says why nothing can be installed for sdist-only and native-only projects', async () => {
    const s = await failure(run(['legacy-sdist-only']));
    expect(s.code).toBe('ERR_NO_WHEEL');
    expect(s.message).toMatch(/legacy-sdist-only has no version pyworkers can install/);
    expect(s.message).toMatch(
      /legacy-sdist-only 1\.0\.0 \(catalogue\): only a source distribution/,
    );
    const n = await failure(run(['native-only-ext']));
    expect(n.code).toBe('ERR_NO_WHEEL');
    expect(n.message).toMatch(
      /native-only-ext 1\.2\.0 \(catalogue\): no wheel for Pyodide \(.*native platform/,
    );
    const v = await failure(run(['fast-json>=2']));
    expect(v.code).toBe('ERR_NO_WHEEL');
    expect(v.message).toMatch(
      /demo needs fast-json>=2, but the matching versions cannot be installed: 2\.0\.0 \(catalogue\): no wheel for Pyodide \(built for Pyodide ABI 2027_0/,
    );
    const m = await failure(run(['no-such-project']));
    expect(m.code).toBe('ERR_NOT_FOUND');
    expect(m.message).toContain('no-such-project was not found on any index (searched: catalogue)');
  });

  it('prefers pinned versions (an existing lock) when they still fit', async () => {
    const r = pins(
      await run(['flask'], {
        preferences: new Map([
          ['flask', '3.0.3'],
          ['werkzeug', '3.0.6'],
        ]),
      }),
    );
    expect(r.flask).toBe('3.0.3');
    expect(r.werkzeug).toBe('3.0.6');
  });

  it('jumps back over unrelated choices instead of trying every combination', async () => {
    const many = (name: string): MemoryProject => ({
      name,
      releases: Array.from({ length: 40 }, (_, i) => ({ version: `1.${i}` })),
    });
    const src = new MemorySource('wide', [
      many('a'),
      many('b'),
      { name: 'c', releases: [{ version: '1.0', requiresDist: ['d>=2'] }] },
      { name: 'd', releases: [{ version: '1.0' }] },
    ]);
    const e = await failure(run(['a', 'b', 'c'], { sources: [src] }));
    expect(e.code).toBe('ERR_NO_SOLUTION');
    expect(e.message).toContain(
      'c 1.0 needs d>=2, but no usable version of d matches (available: 1.0)',
    );
    const budget = await failure(run(['a', 'b', 'c'], { sources: [src], maxSteps: 2 }));
    expect(budget.code).toBe('ERR_RESOLVE_BUDGET');
  });
});

describe('index strategies', () => {
  const NATIVE = 'cp314-cp314-manylinux_2_17_x86_64';
  const pypi = new MemorySource('pypi', [
    {
      name: 'fastnum',
      releases: [
        { version: '2.0', tags: [NATIVE] },
        { version: '1.0', tags: [NATIVE] },
      ],
    },
    { name: 'shared', releases: [{ version: '1.0' }] },
  ]);
  const pyodide = new MemorySource('pyodide', [
    { name: 'fastnum', releases: [{ version: '2.0', tags: [PYODIDE_TAG] }] },
    { name: 'shared', releases: [{ version: '2.0' }] },
  ]);
  const both = [pypi, pyodide];

  it('unsafe-best-match takes the newest version from any source, and a wheel Pyodide can run', async () => {
    const r = await run(['fastnum', 'shared'], { sources: both });
    expect(pins(r)).toEqual({ fastnum: '2.0', shared: '2.0' });
    expect(r.packages.find((p) => p.name === 'fastnum')!.source.name).toBe('pyodide');
  });

  it('first-index uses only the first source that has the project', async () => {
    expect(pins(await run(['shared'], { sources: both, strategy: 'first-index' })).shared).toBe(
      '1.0',
    );
    const e = await failure(run(['fastnum'], { sources: both, strategy: 'first-index' }));
    expect(e.code).toBe('ERR_NO_WHEEL');
    expect(e.message).toContain('fastnum 2.0 (pypi): no wheel for Pyodide');
  });

  it('unsafe-first-match exhausts the first source before the next', async () => {
    expect(
      pins(await run(['shared'], { sources: both, strategy: 'unsafe-first-match' })).shared,
    ).toBe('1.0');
    expect(
      pins(await run(['shared>1'], { sources: both, strategy: 'unsafe-first-match' })).shared,
    ).toBe('2.0');
  });

  it("resolves native packages from the pinned Pyodide's own set, with no network", async () => {
    const lock = readPyodideLock(lockPath);
    const pyodideSet = new PyodideLockSource(lock, { baseUrl: 'http://127.0.0.1:9/unused/' });
    const r = await run(['pandas', 'six<1.17'], {
      sources: [
        new MemorySource('index', [{ name: 'six', releases: [{ version: '1.16.0' }] }]),
        pyodideSet,
      ],
    });
    const byName = Object.fromEntries(r.packages.map((p) => [p.name, p]));
    for (const name of ['pandas', 'numpy', 'python-dateutil', 'pytz']) {
      expect(byName[name]!.version).toBe(lock.packages.get(name)!.version);
      expect(byName[name]!.source.name).toBe('pyodide');
    }
    expect(byName.pandas!.wheel.filename).toMatch(/pyemscripten_2026_0_wasm32\.whl$/);
    // python-dateutil (from Pyodide) needs six; the index's older six satisfies six<1.17.
    expect(byName.six).toMatchObject({ version: '1.16.0', source: { name: 'index' } });
  });

  it('honours a project pinned to one source', async () => {
    const r = await resolve({
      requirements: [parseRequirement('shared')],
      sources: {
        sources: both,
        strategy: 'unsafe-best-match',
        pinned: new Map([['shared', pypi]]),
      },
      platform,
    });
    expect(pins(r).shared).toBe('1.0');
  });
});
