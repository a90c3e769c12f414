// Part of the reliability suite (#14): nothing acknowledged is lost when the whole server dies.
// `pyworkers serve --state DIR` runs a worker whose every request writes to KV, D1, R2 and the
// storage of a Durable Object (one per client connection); four client connections write until
// `kill -9` of the whole process tree (router and host processes) with writes in flight; a
// restart on the same state reads back, through the worker, every write whose response was
// received. The longer soak (many cycles): bench/crash-soak.bench.ts.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Dump,
  dumpUrl,
  killTree,
  lostWrites,
  processTree,
  serveCrash,
  startWriters,
  writeCrashProject,
} from './helpers/crash-serve.js';
import { type CliProcess, runCli } from './helpers/run-cli.js';

const T = 300_000;
const bwrap = (process.env.PATH ?? '').split(':').some((dir) => {
  try {
    accessSync(`${dir}/bwrap`, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});
let root: string;
let project: string;
let state: string;
const running: CliProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pyw-crash-serve-'));
  const init = await runCli(['init', 'app'], { cwd: root });
  expect(init.code, init.stderr).toBe(0);
  project = join(root, 'app');
  state = join(root, 'state');
  writeCrashProject(project);
}, T);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

describe('pyworkers serve killed with kill -9', () => {
  it(
    'loses no acknowledged KV, D1, R2 or Durable Object storage write',
    async () => {
      const first = await serveCrash(project, state);
      running.push(first.proc);
      const pid = first.proc.child.pid!;
      expect((await fetch(`${first.url}/init`)).status).toBe(200);
      // The router and its host processes: the kill takes all of them.
      const tree = processTree(pid);
      expect(tree.length).toBeGreaterThan(1);

      let enough: () => void = () => {};
      const reached = new Promise<void>((r) => {
        enough = r;
      });
      const writers = startWriters(first.url, {
        prefix: 'run1',
        onAck: (n) => {
          if (n >= 200) enough();
        },
      });
      await reached;
      const killed = await killTree(pid);
      const results = await writers.done;
      expect(killed.length).toBeGreaterThan(1);

      const acked = results.flatMap((r) => r.acked);
      expect(results.flatMap((r) => r.failed)).toEqual([]);
      // Each connection was writing when the server died, and each had writes answered.
      expect(results.every((r) => r.acked.length > 0)).toBe(true);

      const second = await serveCrash(project, state);
      running.push(second.proc);
      const res = await fetch(dumpUrl(second.url, ['run1']));
      expect(res.status).toBe(200);
      const dump = (await res.json()) as Dump;
      expect(dump.bad).toEqual([]);
      expect(lostWrites(acked, dump)).toEqual({ kv: [], d1: [], r2: [], do: [] });
      // Writes in flight at the kill may or may not be there; nothing else may be.
      const written = new Set(results.flatMap((r) => r.acked.concat(r.failed.map((f) => f.key))));
      const extra = dump.kv.filter((k) => !written.has(k));
      expect(extra.length).toBeLessThanOrEqual(results.length);
      await second.proc.stop();
    },
    T,
  );

  it.skipIf(!bwrap)(
    'with --sandbox bwrap: the hosts run confined and still write the state directory',
    async () => {
      const boxedState = join(root, 'boxed-state');
      const { proc, url } = await serveCrash(project, boxedState, ['--sandbox', 'bwrap']);
      running.push(proc);
      expect((await fetch(`${url}/init`)).status).toBe(200);
      expect(await (await fetch(`${url}/write?k=boxed-1`, { method: 'POST' })).text()).toBe('ok');
      const dump = (await (await fetch(`${url}/dump?writers=boxed`)).json()) as Dump;
      expect(lostWrites(['boxed-1'], dump)).toEqual({ kv: [], d1: [], r2: [], do: [] });
      // Every host process (node, not the bwrap that started it) runs with the seccomp filter.
      const nodes = processTree(proc.child.pid!).filter((p) => {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv[0] === process.execPath && /host-process|dev-bootstrap/.test(argv.join(' '));
      });
      expect(nodes.length).toBeGreaterThan(0);
      for (const p of nodes) {
        const status = readFileSync(`/proc/${p}/status`, 'utf8');
        expect(/^Seccomp:\s+(\d)/m.exec(status)?.[1]).toBe(process.arch === 'x64' ? '2' : '0');
      }
      await proc.stop();
    },
    T,
  );
});
