import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/bin.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The real `pyworkers` binary, from source: node + tsx + the `source` export condition. */
export const NODE_ARGS = ['--conditions=source', '--import', TSX, BIN];

/** Environment for a CLI run: no inherited PYWORKERS_* or UV_* settings, logs at info. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(PYWORKERS_|UV_|PIP_|FORCE_COLOR|NO_COLOR)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** What a finished run printed. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pyworkers args...` to completion. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: cliEnv(options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running CLI process (serve, dev). */
export interface CliProcess {
  child: ChildProcess;
  /** The first JSON line on stdout (serve/dev --json), or the URL of a `serving on URL` line. */
  ready: Promise<{ url: string; workers: { name: string }[] }>;
  stdout(): string;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `pyworkers args...` and resolves `ready` when it prints its JSON result line. */
export function startCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): CliProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const ready = new Promise<{ url: string; workers: { name: string }[] }>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
      const human = /^serving on (\S+)$/m.exec(out);
      if (human) resolve({ url: human[1]!, workers: [] });
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    void exited.then((code) =>
      reject(new Error(`pyworkers exited with ${code} before it was ready:\n${err}`)),
    );
  });
  return {
    child,
    ready,
    stdout: () => out,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
