// Host processes under bubblewrap (skipped where `bwrap` is not installed; CI installs it). The
// layer is checked from outside, through /proc: what each host process can see and do.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@pyworkers/isolate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapArgs, findBwrap } from '../src/host/sandbox.js';
import { DENIED_SYSCALLS_X64, seccompFilter } from '../src/host/seccomp.js';
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
    // Over 64 KiB: the body streams to the host on its body channel (an fd bwrap passes on).
    const big = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const echoed = await fetch(`${base}/echo`, { method: 'POST', body: big });
    expect(Buffer.from(await echoed.arrayBuffer()).equals(Buffer.from(big))).toBe(true);
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

  it('run under the seccomp filter', async () => {
    const [host] = (await router.status()).hosts;
    const status = readFileSync(`/proc/${hostNode(host!.pid)}/status`, 'utf8');
    // 2: filter mode (bwrap also sets no_new_privs, so nothing it starts can gain privileges).
    expect(/^Seccomp:\s+(\d)/m.exec(status)?.[1]).toBe(process.arch === 'x64' ? '2' : '0');
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe('1');
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

// What the seccomp layer refuses, tried from inside the same sandbox a host runs in: a process
// there (as a host process compromised by a worker's escape would be) calls each syscall through
// ctypes. Each gets EPERM (clone3 ENOSYS, so libc falls back to clone) while threads and fork work.
const probe = `
import ctypes, json, os, threading
libc = ctypes.CDLL(None, use_errno=True)
def err(r):
    return 0 if r == 0 else ctypes.get_errno()
out = {
    "unshare(CLONE_NEWUSER)": err(libc.unshare(0x10000000)),
    "unshare(CLONE_NEWNS)": err(libc.unshare(0x00020000)),
    "setns": err(libc.setns(0, 0)),
    "mount": err(libc.mount(b"none", b"/mnt", b"tmpfs", 0, None)),
    "ptrace(PTRACE_TRACEME)": err(libc.ptrace(0, 0, 0, 0)),
    "bpf": err(libc.syscall(321, 0, 0, 0)),
    "perf_event_open": err(libc.syscall(298, 0, 0, -1, -1, 0)),
    "userfaultfd": err(libc.syscall(323, 0)),
    "keyctl": err(libc.syscall(250, 0, 0, 0, 0, 0)),
    "open_by_handle_at": err(libc.syscall(304, 0, 0, 0)),
    "clone3": err(libc.syscall(435, 0, 0)),
}
t = threading.Thread(target=lambda: None)
t.start()
t.join()
pid = os.fork()
if pid == 0:
    os._exit(7)
out["fork"] = os.waitpid(pid, 0)[1] >> 8
print(json.dumps(out))
`;

describe.skipIf(!bwrap || process.arch !== 'x64')('the seccomp layer', () => {
  it('refuses namespaces, mounts, ptrace and the kernel surfaces a host never needs', () => {
    const file = join(tmpdir(), `pyworkers-seccomp-${process.pid}.bpf`);
    writeFileSync(file, seccompFilter()!);
    const fd = openSync(file, 'r');
    try {
      const args = [
        '--seccomp',
        '3',
        ...bwrapArgs({ readOnly: [], readWrite: [] }),
        'python3',
        '-c',
        probe,
      ];
      const run = spawnSync(bwrap!, args, {
        stdio: ['ignore', 'pipe', 'pipe', fd],
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const EPERM = 1;
      expect(JSON.parse(run.stdout)).toEqual({
        'unshare(CLONE_NEWUSER)': EPERM,
        'unshare(CLONE_NEWNS)': EPERM,
        setns: EPERM,
        mount: EPERM,
        'ptrace(PTRACE_TRACEME)': EPERM,
        bpf: EPERM,
        perf_event_open: EPERM,
        userfaultfd: EPERM,
        keyctl: EPERM,
        open_by_handle_at: EPERM,
        clone3: 38, // ENOSYS
        fork: 7,
      });
    } finally {
      closeSync(fd);
      rmSync(file, { force: true });
    }
  });

  it('is one instruction per denied syscall, plus the ABI and clone checks', () => {
    expect(seccompFilter()!.length / 8).toBe(Object.keys(DENIED_SYSCALLS_X64).length + 13);
    expect(seccompFilter('arm64')).toBeUndefined();
  });
});
