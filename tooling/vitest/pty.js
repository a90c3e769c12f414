// Plain JS (not TS) like the rest of this package: test helpers shared by packages and apps.
// A command on a real pseudo-terminal (util-linux `script`), to test what people see.
import { spawn, spawnSync } from 'node:child_process';

/** Whether util-linux `script` (a pseudo-terminal for a command) is here. */
export function hasScript() {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** @param {string} s */
const quote = (s) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Terminal output as plain lines: no colour codes, no carriage returns, no spinner frames.
 * @param {string} text
 */
export function plainLines(text) {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences
      .replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
      .split(/\r?\n/)
      .map((l) => String(l.split('\r').at(-1)).trimEnd())
      .filter(Boolean)
  );
}

/**
 * Runs `argv` under `script -qfec`, which gives it a real pseudo-terminal (stdin, stdout and
 * stderr are all the terminal).
 * @param {string[]} argv
 * @param {{ cwd: string; env: NodeJS.ProcessEnv }} options
 */
export function startPty(argv, options) {
  const child = spawn('script', ['-qfec', argv.map(quote).join(' '), '/dev/null'], {
    cwd: options.cwd,
    env: { ...options.env, TERM: 'xterm-256color', COLUMNS: '120', LINES: '40' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise((resolve) => child.on('close', () => resolve(undefined)));
  return {
    child,
    output: () => out,
    /** @param {RegExp} re @param {number} [ms] */
    async waitFor(re, ms = 240_000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = re.exec(plainLines(out).join('\n'));
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`exited before ${re}:\n${out}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${re}:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop() {
      if (child.exitCode === null && child.pid) {
        try {
          // The whole group: script, the shell and the command under it.
          process.kill(-child.pid, 'SIGTERM');
        } catch {}
      }
      await exited;
    },
  };
}
