// Host processes under bubblewrap (skipped where `bwrap` is not installed; CI installs it). The
// layer is checked from outside, through /proc: what each host process can see and do.
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBwrap } from '../src/host/sandbox.js';
import { createRouter, type Router } from '../src/index.js';
import { bundleFor, waitFor } from './fixtures.js';

const bwrap = findBwrap();
let bundle: Bundle;
let router: Router;
let base: string;
const marker = join(tmpdir(), `pyworkers-sandbox-marker-${process.pid}`);

/** Every descendant of `pid`. */
function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const k of kids.split(/\s+/).filter(Boolean).map(Number)) out.push(k, ...descendants(k));
  }
  return out;
}
/** The node process of a sandboxed host (bwrap's descendant running the host entry). */
function hostNode(bwrapPid: number): number {
  const pid = descendants(bwrapPid).find((p) =>
    /host-process|dev-bootstrap/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8')),
  );
  if (!pid) throw new Error(`no host process under bwrap ${bwrapPid}`);
  return pid;
}

describe.skipIf(!bwrap)('host processes under bubblewrap', () => {
  beforeAll(async () => {
    writeFileSync(marker, 'operator file in /tmp');
    bundle = await bundleFor('boxed');
    router = createRouter({
      hostKind: 'process',
      hosts: 1,
      sandbox: 'bwrap',
      workers: [
        {
          name: 'boxed',
          routes: [{ pathPrefix: '/' }],
          bundle: async () => bundle,
          secrets: { TOKEN: 'boxed-secret' },
        },
      ],
    });
    base = `http://127.0.0.1:${(await router.listen({ port: 0, host: '127.0.0.1' })).port}`;
  });
  afterAll(async () => {
    await router?.close();
    rmSync(marker, { force: true });
  });

  it('serve requests: cold start, secrets over IPC, echo', async () => {
    expect(await (await fetch(`${base}/secret`)).text()).toBe('boxed-secret');
    const res = await fetch(`${base}/echo`, { method: 'POST', body: 'inside' });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('inside');
  });

  it('run in their own PID namespace, with no capabilities, without the operator /tmp', async () => {
    const [host] = (await router.status()).hosts;
    const node = hostNode(host!.pid);
    // readlink of /proc/<pid>/ns/<kind> names the namespace a process is in.
    const ns = (pid: number | 'self', kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
    expect(ns(node, 'pid')).not.toBe(ns('self', 'pid'));
    expect(ns(node, 'ipc')).not.toBe(ns('self', 'ipc'));
    const status = readFileSync(`/proc/${node}/status`, 'utf8');
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toMatch(/^0+$/);
    expect(/^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/).length).toBe(2);
    // Its file system: /tmp and /root are empty tmpfs, the rest is read-only.
    expect(() => readFileSync(`/proc/${node}/root${marker}`)).toThrow(/ENOENT/);
    const mounts = readFileSync(`/proc/${node}/mounts`, 'utf8').split('\n');
    const root = mounts.find((m) => m.split(' ')[1] === '/');
    expect(root?.split(' ')[3]?.split(',')).toContain('ro');
  });

  it('is replaced after kill -9, still sandboxed', async () => {
    const [before] = (await router.status()).hosts;
    process.kill(before!.pid, 'SIGKILL');
    await waitFor(async () => {
      const [h] = (await router.status()).hosts;
      return h !== undefined && h.pid !== before!.pid && h.pid > 0;
    });
    await waitFor(async () => (await fetch(`${base}/x`)).status === 200);
    const [after] = (await router.status()).hosts;
    expect(readFileSync(`/proc/${after!.pid}/cmdline`, 'utf8')).toContain('bwrap');
  });
});
