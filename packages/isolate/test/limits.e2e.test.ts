import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bundle,
  buildBundle,
  decodeBundle,
  type Isolate,
  IsolateLauncher,
  type Logger,
} from '../src/index.js';

const entry = `
from workers import Response

async def on_fetch(request, env):
    path = request.url.rsplit("/", 1)[-1]
    if path == "spin":
        while True:
            pass
    if path == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(16 * 1024 * 1024))
    if path == "some":
        held = bytearray(40 * 1024 * 1024)
        return Response(f"held {len(held)}")
    if path == "raise":
        raise ValueError("handler blew up")
    return Response("fine")
`;

const lines: string[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(_obj, msg) {
    lines.push(String(msg));
  },
};
const launcher = new IsolateLauncher({
  poolSize: 2,
  logger,
  limits: { requestTimeoutMs: 20_000, memoryBytes: 96 * 1024 * 1024 },
});
// A short time limit only where the test wants it hit (the machine may be slow).
const impatient = new IsolateLauncher({ poolSize: 1, logger, limits: { requestTimeoutMs: 1500 } });
const started: Isolate[] = [];
let bundle: Bundle;
/** The same worker with its own (tighter) limits in its manifest, as its config would set them. */
let strict: Bundle;

beforeAll(async () => {
  bundle = decodeBundle(
    await buildBundle({
      name: 'limits',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: {},
    }),
  );
  strict = decodeBundle(
    await buildBundle({
      name: 'strict',
      mainModule: 'entry',
      files: bundle.files,
      vars: {},
      limits: { requestTimeoutMs: 1500, memoryBytes: 48 * 1024 * 1024 },
    }),
  );
  await Promise.all([launcher.warm(), impatient.warm()]);
});
afterAll(async () => {
  await Promise.all(started.map((i) => i.close()));
  await Promise.all([launcher.close(), impatient.close()]);
});

const start = async (from = launcher, what = bundle) => {
  const iso = await from.start(what);
  started.push(iso);
  return iso;
};
const call = (iso: Isolate, path: string) =>
  iso.fetch({
    method: 'GET',
    url: `http://127.0.0.1/${path}`,
    headers: [],
    body: new Uint8Array(),
  });

describe('limits', () => {
  it('terminates an isolate whose request runs past the time limit; others keep serving', async () => {
    const [victim, bystander] = [await start(impatient), await start()];
    await expect(call(victim, 'spin')).rejects.toMatchObject({ code: 'ERR_ISOLATE_TIMEOUT' });
    expect(victim.closed).toBe(true);
    await expect(call(victim, 'ok')).rejects.toMatchObject({ code: 'ERR_ISOLATE_CLOSED' });
    expect((await call(bystander, 'ok')).status).toBe(200);
    const replacement = await start();
    expect((await call(replacement, 'ok')).status).toBe(200);
  });

  it('terminates an isolate whose Python heap grows past the memory limit', async () => {
    const iso = await start();
    expect(iso.memoryBytes()).toBeGreaterThan(0);
    await expect(call(iso, 'hog')).rejects.toMatchObject({ code: 'ERR_ISOLATE_MEMORY_LIMIT' });
    expect(iso.closed).toBe(true);
    expect((await call(await start(), 'ok')).status).toBe(200);
  });

  it('reports a handler exception with its traceback and reuses the isolate', async () => {
    const iso = await start();
    await expect(call(iso, 'raise')).rejects.toMatchObject({ code: 'ERR_ISOLATE_HANDLER' });
    expect(lines.join('\n')).toMatch(/Traceback[\s\S]*ValueError: handler blew up/);
    expect(iso.closed).toBe(false);
    expect((await call(iso, 'ok')).status).toBe(200);
  });

  it("applies a worker's own limits from its bundle over the launcher's defaults", async () => {
    expect(strict.manifest.limits).toEqual({
      requestTimeoutMs: 1500,
      memoryBytes: 48 * 1024 * 1024,
    });
    // Under the launcher's 96 MiB cap 40 MiB more is fine; under the worker's own 48 MiB it is not.
    expect(new TextDecoder().decode((await call(await start(), 'some')).body)).toBe(
      'held 41943040',
    );
    await expect(call(await start(launcher, strict), 'some')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_MEMORY_LIMIT',
    });
    // The launcher allows 20 s; the worker's own 1.5 s limit is what ends this request.
    const t0 = performance.now();
    await expect(call(await start(launcher, strict), 'spin')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_TIMEOUT',
    });
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});
