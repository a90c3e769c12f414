// The crash test of issue #14: writes to KV, D1 and R2 from four threads until kill -9 of the
// whole process; after a restart every acknowledged write reads back. Then the same state with
// a truncated or overwritten file is a clear error naming the file, and a full disk is a clear
// error to the call that hit it, with nothing acknowledged lost.
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BindingDeclaration, isBindingError, openStore } from '../src/index.js';
import { objectBytes } from './fixtures/crash-writer.js';

const declarations: BindingDeclaration[] = [
  { type: 'kv', name: 'KV', id: 'crash' },
  { type: 'd1', name: 'DB', databaseName: 'crash' },
  { type: 'r2', name: 'BUCKET', bucketName: 'crash' },
];

const root = mkdtempSync(join(tmpdir(), 'pyw-crash-'));
const stateDir = join(root, 'state');
/** Acknowledged writes by kind: `${t} ${i}`. */
const acked = { kv: new Set<string>(), d1: new Set<string>(), r2: new Set<string>() };

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file under `dir`, relative paths. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(dir, join(rel, e.name)) : [join(rel, e.name)],
  );
}

beforeAll(async () => {
  const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', writer, stateDir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', () => resolve());
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, t, i] = line.split(' ');
        if (kind === 'kv' || kind === 'd1' || kind === 'r2') acked[kind].add(`${t} ${i}`);
      }
      // Every thread well into its loop, then the whole process dies without warning.
      const perThread = [0, 1, 2, 3].map(
        (t) => [...acked.r2].filter((k) => k.startsWith(`${t} `)).length,
      );
      if (Math.min(...perThread) >= 40 && proc.exitCode === null && !proc.killed)
        proc.kill('SIGKILL');
    });
  });
  expect(proc.signalCode).toBe('SIGKILL');
});

describe('kill -9 of the whole process while four threads write', () => {
  it('loses no acknowledged write to KV, D1 or R2', async () => {
    expect(acked.r2.size).toBeGreaterThanOrEqual(160);
    const store = openStore({ stateDir });
    const b = store.bindings(declarations);
    const lost: string[] = [];
    for (const k of acked.kv) {
      const [t, i] = k.split(' ');
      if ((await b.call('KV', 'get', [`t${t}-k${i}`])) !== `value ${t}/${i}`) lost.push(`kv ${k}`);
    }
    const rows = (await b.call('DB', 'all', ['SELECT t, i, v FROM w', []])) as {
      results: { t: number; i: number; v: string }[];
    };
    const have = new Map(rows.results.map((r) => [`${r.t} ${r.i}`, r.v]));
    for (const k of acked.d1) {
      const [t, i] = k.split(' ');
      if (have.get(k) !== `row ${t}/${i}`) lost.push(`d1 ${k}`);
    }
    for (const k of acked.r2) {
      const [t, i] = k.split(' ').map(Number) as [number, number];
      const obj = (await b.call('BUCKET', 'get', [`t${t}/o${i}`])) as { body: Uint8Array } | null;
      if (!obj || Buffer.compare(Buffer.from(obj.body), Buffer.from(objectBytes(t, i))) !== 0)
        lost.push(`r2 ${k}`);
    }
    expect(lost).toEqual([]);
    await store.close();
  });
});

describe('a damaged state file', () => {
  const cases: [string, (file: string) => void][] = [
    ['truncated', (file) => truncateSync(file, 50)],
    ['overwritten', (file) => writeFileSync(file, Buffer.alloc(statSync(file).size, 0x41))],
  ];
  it.each(cases)(
    '%s is a clear error naming the file, never an empty store',
    async (_how, damage) => {
      const copy = mkdtempSync(join(root, 'damaged-'));
      cpSync(stateDir, copy, { recursive: true });
      const kvFile = files(copy).find(
        (f) => f.startsWith(join('v1', 'kv')) && f.endsWith('.sqlite'),
      );
      expect(kvFile).toBeDefined();
      // Without its WAL the main file is all there is (a checkpointed store).
      rmSync(join(copy, `${kvFile}-wal`), { force: true });
      damage(join(copy, kvFile!));
      const store = openStore({ stateDir: copy });
      const err = await store
        .bindings(declarations)
        .call('KV', 'get', ['t0-k0'])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isBindingError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'ERR_STATE_CORRUPT' });
      expect((err as Error).message).toContain(join(copy, kvFile!));
      await store.close().catch(() => {});
    },
  );
});

/** A 1 MiB tmpfs (root only; CI runs as root): the only honest way to fill a disk. */
function smallDisk(): string | undefined {
  const dir = join(root, 'small-disk');
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

describe('a full disk', () => {
  const disk = process.getuid?.() === 0 ? smallDisk() : undefined;
  afterAll(() => {
    // Lazy: a store a failed assertion left open must not keep the mount (or the run) stuck.
    if (disk) execFileSync('umount', ['-l', disk]);
  });

  it.skipIf(!disk)(
    'fails the write that hit it with a clear error, and loses nothing acknowledged',
    async () => {
      const store = openStore({ stateDir: disk! });
      const b = store.bindings(declarations);
      const written: number[] = [];
      let failure: unknown;
      for (let i = 0; i < 200 && !failure; i++) {
        try {
          await b.call('BUCKET', 'put', [`big-${i}`, new Uint8Array(64 * 1024).fill(i)]);
          written.push(i);
        } catch (err) {
          failure = err;
        }
      }
      expect(written.length).toBeGreaterThan(0);
      expect(isBindingError(failure)).toBe(true);
      expect((failure as Error).message).toMatch(/no space|full|ENOSPC/i);
      // Small writes may still fit or fail cleanly; reads keep working either way.
      await b.call('KV', 'put', ['after', 'the disk filled']).catch((err: unknown) => {
        expect(isBindingError(err)).toBe(true);
      });
      await store.close();
      const again = openStore({ stateDir: disk! }).bindings(declarations);
      for (const i of written) {
        const obj = (await again.call('BUCKET', 'get', [`big-${i}`])) as {
          body: Uint8Array;
        } | null;
        expect(obj?.body.length).toBe(64 * 1024);
        expect(obj?.body[0]).toBe(i);
      }
      await again.close();
    },
  );
});
