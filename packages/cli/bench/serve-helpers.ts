// What the CLI benches share: run the real binary, and wait for a port to open.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The CLI's bin, as a user runs it. */
export const BIN = fileURLToPath(new URL('../bin/pyworkers.js', import.meta.url));

/** Runs `pyworkers ...args` in `cwd` to completion (rejects on a non-zero exit). */
export function run(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: 'ignore' });
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`pyworkers ${args.join(' ')}: exit ${code}`)),
    );
  });
}

/** Resolves at the first moment a TCP connect to the port succeeds (polled every `everyMs`). */
export async function portOpen(port: number, everyMs = 2, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
