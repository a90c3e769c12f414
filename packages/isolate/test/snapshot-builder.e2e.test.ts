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
    expect(builder.stats()).toEqual({ waiting: true, builds: 0 });
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
    expect(builder.stats()).toEqual({ waiting: true, builds: 2 });
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
