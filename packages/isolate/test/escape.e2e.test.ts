// Security claims as attacks: a worker tries, from Python inside a real isolate, every way out it
// knows of (host env, host files, Node's globals, Pyodide's internals, spawning, exiting) and
// each is refused with a Python exception while the isolate keeps serving.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, decodeBundle, Isolate, IsolateLauncher } from '../src/index.js';
import { send } from './sdk-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pyworkers-escape-'));
const hostFile = join(dir, 'operator-secret.txt');
const launcher = new IsolateLauncher({ poolSize: 1 });
// Both ways an isolate comes to life: a fresh thread restoring the snapshot, and a parked
// (baseline) isolate swapping the snapshot's heap in, which keeps its JS realm from before.
const isolates: Record<'restored' | 'swapped', Isolate | undefined> = {
  restored: undefined,
  swapped: undefined,
};

beforeAll(async () => {
  writeFileSync(hostFile, 'operator-file-secret');
  // Worker threads could start with a copy of the process's environment: the attack's target.
  process.env.ESCAPE_OPERATOR_SECRET = 'hunter2';
  const source = readFileSync(new URL('./fixtures/escape_worker.py', import.meta.url), 'utf8');
  const bundle = decodeBundle(
    await buildBundle({
      name: 'escape',
      mainModule: 'entry',
      files: new Map([['entry.py', new TextEncoder().encode(source)]]),
      vars: { ESCAPE_HOST_FILE: hostFile },
    }),
  );
  await launcher.warm();
  isolates.swapped = await launcher.start(bundle);
  isolates.restored = await Isolate.start(bundle);
});

afterAll(async () => {
  delete process.env.ESCAPE_OPERATOR_SECRET;
  await Promise.all(Object.values(isolates).map((i) => i?.close()));
  await launcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['restored', 'swapped'] as const)(
  'a worker in a %s isolate trying to leave it',
  (how) => {
    const current = (): Isolate => isolates[how]!;

    async function probe(name: string): Promise<string> {
      const isolate = current();
      const res = await send(isolate, `http://127.0.0.1/?probe=${encodeURIComponent(name)}`);
      expect(res.status).toBe(200);
      return res.text;
    }

    const refused = [
      'js.process',
      'js.require',
      'js.Buffer',
      'js.global',
      'js.globalThis.process',
      'js.eval',
      'js.WebAssembly',
      'js.BroadcastChannel',
      'js.MessageChannel',
      'Function constructor',
      'constructor.constructor',
      'Error.prepareStackTrace',
      'timer object',
      'console._stdout',
      'performance.nodeTiming',
      'pyodide.code.run_js',
      'pyodide_js._module',
      'pyodide_js.FS',
      'pyodide_js.mountNodeFS',
      'pyodide_js.loadPackage',
      'pyodide_js._api._nodeSock',
      'pyodide_js._api.config',
      'host file',
      'os.system',
      'subprocess',
      'ctypes system',
      'ctypes run_script',
      'os.umask',
      'stdlib zip',
      'host env',
      'sys.exit',
    ];

    it('came to life the way this suite says', () => {
      expect(current().swapped).toBe(how === 'swapped');
    });

    it.each(refused)('%s is refused with a Python exception', async (name) => {
      const umask = process.umask();
      const answer = await probe(name);
      expect(answer).toMatch(/^refused: \w+/);
      expect(process.umask()).toBe(umask);
      // The isolate still serves after each attempt.
      expect(await probe('none')).toBe('still serving');
    });

    it('leaves no trace of a shell command on the host', () => {
      expect(() => readFileSync(`${hostFile}.system`)).toThrow(/ENOENT/);
    });

    it('cannot fetch file:// URLs', async () => {
      const res = await send(current(), 'http://127.0.0.1/fetch-file');
      expect(res.text).toMatch(/^refused: /);
    });

    it('reaches no Node or Pyodide internals from any JS object Python holds', async () => {
      const res = await send(current(), 'http://127.0.0.1/walk');
      const [visited, ...found] = res.text.split('\n').filter((line) => line !== '');
      // The walk must have covered the scope (web APIs, their prototypes) to mean anything.
      expect(Number(visited?.split(' ')[1])).toBeGreaterThan(500);
      expect(found).toEqual([]);
    });
  },
);
