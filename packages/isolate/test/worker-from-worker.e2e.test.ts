// Worker from worker: two workers' isolates in one process (one launcher, as in a host
// process). B searches all it can reach (env, files, heap, JS scope) for A's secret and finds
// only its own; A's secret is in no bundle, no snapshot, and no log line.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bundle,
  buildBundle,
  decodeBundle,
  encodeBundle,
  type Isolate,
  IsolateLauncher,
} from '../src/index.js';
import { memoryLogger, send } from './sdk-helpers.js';

const secretA = `pyw-secret-${randomBytes(12).toString('hex')}`;
const secretB = `pyw-secret-${randomBytes(12).toString('hex')}`;
const log = memoryLogger();
const launcher = new IsolateLauncher({ poolSize: 2, logger: log });
let bundleA: Bundle;
let bundleB: Bundle;
let a: Isolate;
let b: Isolate;

const workerA = `
import os
from workers import Response, WorkerEntrypoint

class Default(WorkerEntrypoint):
    async def fetch(self, request):
        if request.url.endswith("/boom"):
            raise RuntimeError("a handler error, logged with its traceback")
        # Uses its secret (into files and the heap), as a worker would.
        with open("/tmp/token", "w") as f:
            f.write(self.env.API_TOKEN)
        return Response("A has " + str(len(self.env.API_TOKEN)) + " chars")
`;

const build = async (name: string, entry: string): Promise<Bundle> =>
  decodeBundle(
    await buildBundle({
      name,
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(entry)]]),
      vars: { PUBLIC: 'not a secret' },
    }),
  );

beforeAll(async () => {
  const neighbour = readFileSync(
    new URL('./fixtures/neighbour_worker.py', import.meta.url),
    'utf8',
  );
  [bundleA, bundleB] = await Promise.all([build('a', workerA), build('b', neighbour)]);
  await launcher.warm();
  a = await launcher.start(bundleA, { secrets: { API_TOKEN: secretA } });
  b = await launcher.start(bundleB, { secrets: { OWN_TOKEN: secretB } });
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await launcher.close();
});

describe('two workers in one process', () => {
  it("A's secret is nowhere B can look; B's own secret is (the search works)", async () => {
    expect((await send(a, 'http://127.0.0.1/')).text).toBe(`A has ${secretA.length} chars`);
    const found = (await send(b, 'http://127.0.0.1/')).text.split('\n');
    // B finds its own secret in its env and heap, so it would find A's if it were there.
    expect(found).toContain('env OWN_TOKEN');
    expect(found.some((f) => f.startsWith('heap '))).toBe(true);
    const text = found.join('\n');
    expect(text).not.toContain(secretA.slice(-24));
    expect(found.filter((f) => f.startsWith('file '))).toEqual([]);
  });

  it("A's secret is in no bundle, no snapshot and no log line", async () => {
    await expect(send(a, 'http://127.0.0.1/boom')).rejects.toMatchObject({
      code: 'ERR_ISOLATE_HANDLER',
    });
    const needle = Buffer.from(secretA);
    for (const bundle of [bundleA, bundleB]) {
      // Files stored as is: a compressed region would hide the needle from this search.
      expect(Buffer.from(encodeBundle(bundle, { filesCodec: 'none' })).includes(needle)).toBe(
        false,
      );
      if (bundle.snapshot) expect(Buffer.from(bundle.snapshot).includes(needle)).toBe(false);
    }
    expect(log.entries.length).toBeGreaterThan(0);
    expect(JSON.stringify(log.entries)).not.toContain(secretA);
    expect(JSON.stringify(log.entries)).not.toContain(secretB);
  });
});
