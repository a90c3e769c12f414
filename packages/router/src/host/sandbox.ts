// The OS-level layer under isolate host processes: bubblewrap (`bwrap`), when installed. It
// needs no set-up beyond the binary (unprivileged user namespaces, or root), and every host
// process runs inside it:
// - its own PID namespace and /proc: no other process is visible or signalable (the router,
//   other hosts, the operator's shell), nor their /proc/<pid>/environ, mem or fds;
// - the whole file system read-only, and the operator's home directories (/root, /home) and
//   /tmp replaced by empty tmpfs, except what the host needs (the installed code, read-only;
//   the snapshot cache and the state directory, writable);
// - no capabilities (root in a container cannot mount, ptrace or bypass file permissions);
// - a new session (no terminal injection) and its own IPC/UTS namespaces;
// - killed when the router dies;
// - with `sandboxSeccomp` (default), a seccomp filter on top (./seccomp.ts).
// Not stopped: outbound network (workers fetch), reads of world-readable files elsewhere.
import { accessSync, constants, existsSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** `bwrap` on PATH, or undefined. */
export function findBwrap(path: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What a host process may see besides the read-only root. */
export interface SandboxPaths {
  /** Shown read-only even when under a hidden directory (the installed code). */
  readOnly: string[];
  /** Shown writable (snapshot cache, state directory). */
  readWrite: string[];
}

const HIDDEN = ['/root', '/home', '/tmp', '/run', '/var/tmp'];

/** bwrap's arguments up to (not including) the command it runs. */
export function bwrapArgs(paths: SandboxPaths): string[] {
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--new-session',
    '--die-with-parent',
    '--cap-drop',
    'ALL',
  ];
  for (const dir of HIDDEN) if (existsSync(dir)) args.push('--tmpfs', dir);
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : undefined);
  for (const p of paths.readOnly.map(real)) if (p) args.push('--ro-bind', p, p);
  for (const p of paths.readWrite.map(real)) if (p) args.push('--bind', p, p);
  return args;
}
