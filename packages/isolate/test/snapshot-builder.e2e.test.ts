import { afterAll, describe, expect, it } from 'vitest';
import {
  buildBundle,
  decodeBundle,
  IsolateError,
  IsolateLauncher,
  type Logger,
  SnapshotBuilder,
} from '../src/index.js';

const enc = new TextEncoder();
const files = (source: string) => new Map([['entry.py', enc.encode(source)]]);
const lines: { worker?: string; msg: string }[] = [];
const record =
  () =>
  (obj: object, msg: string): void => {
    lines.push({ worker: (obj as { worker?: string }).worker, msg });
  };
const logger: Logger = { debug: record(), info: record(), warn: record(), error: record() };
const builder = new SnapshotBuilder();
const launcher = new IsolateLauncher({ poolSize: 1 });
afterAll(() => Promise.all([builder.close(), launcher.close()]));

const source = (greeting: string) => `
from js import JSON
from workers import Response
print("top level of ${greeting}")
GREETING = "${greeting}"

async def on_fetch(request, env):
    return Response(JSON.stringify({"greeting": GREETING}))
`;

async function serve(bytes: Uint8Array): Promise<string> {
  const iso = await launcher.start(decodeBundle(bytes));
  try {
    const res = await iso.fetch({
      method: 'GET',
      url: 'http://127.0.0.1/',
      headers: [],
      body: new Uint8Array(),
    });
    return new TextDecoder().decode(res.body);
  } finally {
    await iso.close();
  }
}

describe('SnapshotBuilder: top levels run in an isolate restored ahead of time', () => {
  it('builds bundle after bundle in waiting isolates, each serving its own code', async () => {
    await builder.warm();
    expect(builder.stats()).toEqual({ waiting: true, builds: 0, preloaded: 0 });
    for (const greeting of ['first', 'second']) {
      const bytes = await buildBundle(
        { name: `w-${greeting}`, mainModule: 'entry', files: files(source(greeting)), vars: {} },
        { builder, encoding: 'fast', logger },
      );
      expect(await serve(bytes)).toBe(`{"greeting":"${greeting}"}`);
      // The top level's output carries the name of the worker being built.
      expect(lines).toContainEqual({ worker: `w-${greeting}`, msg: `top level of ${greeting}` });
      // The next isolate boots in the background, after a delay.
      await builder.warm();
    }
    expect(builder.stats()).toEqual({ waiting: true, builds: 2, preloaded: 0 });
  });

  it('reports a failing top level as a build without a builder does, then builds again', async () => {
    const err = await buildBundle(
      {
        name: 'broken',
        mainModule: 'entry',
        files: files(
          'from js import JSON\nCONFIG = JSON.parse(\'{"a": 1}\')\n\ndef on_fetch(request, env):\n    pass\n',
        ),
        vars: {},
      },
      { builder },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IsolateError);
    expect((err as IsolateError).code).toBe('ERR_ISOLATE_UNRESTORABLE');
    expect((err as IsolateError).message).toMatch(/entry\.CONFIG/);
    const raised = await buildBundle(
      { name: 'raises', mainModule: 'entry', files: files('raise ValueError("nope")\n'), vars: {} },
      { builder },
    ).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(raised?.message).toMatch(/ValueError: nope/);
    const bytes = await buildBundle(
      { name: 'after', mainModule: 'entry', files: files(source('after')), vars: {} },
      { builder },
    );
    expect(await serve(bytes)).toBe('{"greeting":"after"}');
  });

  it("imports the last build's dependencies ahead of time, while their key stays the same", async () => {
    const project = (user: string, dep: string) =>
      new Map([
        [
          'entry.py',
          enc.encode(
            `import os, slowdep\nfrom workers import Response\nUSER = "${user}"\n\nasync def on_fetch(request, env):\n    return Response(USER + " " + slowdep.VALUE + " " + str(slowdep.IMPORTS))\n`,
          ),
        ],
        [
          'slowdep/__init__.py',
          enc.encode(`import slowdep.sub\nVALUE = "${dep}"\nIMPORTS = slowdep.sub.count()\n`),
        ],
        [
          'slowdep/sub.py',
          enc.encode('_n = 0\n\ndef count():\n    global _n\n    _n += 1\n    return _n\n'),
        ],
      ]);
    const build = (user: string, dep: string, key: string, entropyBudget?: number) =>
      buildBundle(
        {
          name: 'deps',
          mainModule: 'entry',
          files:
            entropyBudget !== undefined
              ? new Map([
                  ...project(user, dep),
                  [
                    'slowdep/sub.py',
                    enc.encode('import os\nSEED = os.urandom(8)\n\ndef count():\n    return 1\n'),
                  ],
                ])
              : project(user, dep),
          vars: {},
          dependencies: { key, packages: ['slowdep'] },
        },
        { builder, encoding: 'fast', ...(entropyBudget !== undefined ? { entropyBudget } : {}) },
      );
    const own = new SnapshotBuilder();
    const b0 = own.stats();
    expect(b0.preloaded).toBe(0);
    const builder = own;
    try {
      // Primed before any build (dev found its bundle up to date): the first build has them too.
      builder.prime(project('zero', 'v1'), { key: 'k1', packages: ['slowdep'] }, [
        'entry',
        'slowdep',
        'slowdep.sub',
      ]);
      await builder.warm();
      expect(await serve(await build('one', 'v1', 'k1'))).toBe('one v1 1');
      expect(builder.stats()).toMatchObject({ builds: 1, preloaded: 1 });
      await builder.warm();
      // Same dependencies: the waiting isolate imported them; only the changed entry runs.
      expect(await serve(await build('two', 'v1', 'k1'))).toBe('two v1 1');
      expect(builder.stats()).toMatchObject({ builds: 2, preloaded: 2 });
      await builder.warm();
      // New dependency files (a new key): the preloaded modules are stale, a plain isolate builds.
      expect(await serve(await build('three', 'v2', 'k2'))).toBe('three v2 1');
      expect(builder.stats()).toMatchObject({ builds: 3, preloaded: 2 });
      await builder.warm();
      // Entropy a dependency draws at import is counted when it was imported ahead of time too:
      // within a budget the build passes (and its dependencies are preloaded for the next)...
      await build('four', 'v2', 'k3', 64);
      await builder.warm();
      // ...and without one the same top level is refused, its dependency imported ahead of time.
      const err = await build('five', 'v2', 'k3', 0).then(
        () => undefined,
        (e: unknown) => e as IsolateError,
      );
      expect(builder.stats().preloaded).toBe(3);
      expect(err?.code).toBe('ERR_ISOLATE_ENTROPY');
    } finally {
      await own.close();
    }
  });

  it('refuses builds once closed', async () => {
    const closed = new SnapshotBuilder();
    await closed.close();
    await expect(
      buildBundle(
        { name: 'x', mainModule: 'entry', files: files(source('x')), vars: {} },
        { builder: closed },
      ),
    ).rejects.toMatchObject({ code: 'ERR_ISOLATE_CLOSED' });
  });
});
