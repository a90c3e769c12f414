// Starting a ChildHost's host process: forked, or run under bwrap (./sandbox.ts) with a
// seccomp filter (./seccomp.ts), with the body channel (./body-channel.ts) on fd 4.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { hostEntry } from '../internal/paths.js';
import { BODY_FD } from './body-channel.js';
import { hostProcessEnv } from './host-env.js';
import type { HostProcessConfig } from './protocol.js';
import { bwrapArgs } from './sandbox.js';
import { seccompFilter } from './seccomp.js';

const uid = (): number => process.getuid?.() ?? 0;

/** The top-most directory above this package with a node_modules: the installed code. */
function codeRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  let found = dir;
  for (;;) {
    if (existsSync(join(dir, 'node_modules'))) found = dir;
    const up = dirname(dir);
    if (up === dir) return found;
    dir = up;
  }
}

/** A new host process for `config`, with its IPC channel and its body channel's socket. */
export function spawnHostProcess(config: HostProcessConfig): {
  proc: ChildProcess;
  socket: Duplex;
} {
  const entry = hostEntry();
  const env = hostProcessEnv();
  const options = {
    env,
    serialization: 'advanced' as const,
    // fd 4 (BODY_FD): the body channel, a socketpair.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc', 'pipe'] as (
      | 'ignore'
      | 'inherit'
      | 'ipc'
      | 'pipe'
    )[],
  };
  // bwrap reads the seccomp filter from fd 5 (a pipe written below) before it runs node.
  const filter = config.sandbox?.seccomp ? seccompFilter() : undefined;
  if (filter) options.stdio.push('pipe');
  const proc = config.sandbox
    ? spawn(
        config.sandbox.bwrap,
        [
          ...(filter ? ['--seccomp', String(BODY_FD + 1)] : []),
          ...bwrapArgs({
            // tsx's transform cache (source-first runs), read-only: a host may not plant
            // code the router would run on its next start.
            readOnly: [
              codeRoot(),
              dirname(process.execPath),
              join(tmpdir(), `tsx-${uid()}`),
              ...(config.sandbox.readable ?? []),
            ],
            readWrite: [env.PYWORKERS_CACHE_DIR!, ...config.sandbox.writable],
          }),
          process.execPath,
          ...entry.execArgv,
          entry.path,
        ],
        options,
      )
    : fork(entry.path, [], { ...options, execArgv: entry.execArgv });
  if (filter) (proc.stdio[BODY_FD + 1] as NodeJS.WritableStream | null)?.end(filter);
  const socket = proc.stdio[BODY_FD] as Duplex;
  // Host processes must not keep the router's process alive by themselves: open HTTP
  // connections and pending requests already do while there is work.
  proc.unref();
  (proc.channel as { unref?: () => void } | undefined)?.unref?.();
  (socket as Duplex & { unref?: () => void }).unref?.();
  return { proc, socket };
}
