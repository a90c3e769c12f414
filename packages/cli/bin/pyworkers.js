#!/usr/bin/env node
// The `pyworkers` command. npm links a bin at install time, before anything is built, so this
// file is committed and never generated: an installed package runs its build (dist/), a checkout
// of the repo (src/ present) runs the sources through tsx, so `npx pyworkers` works right after
// `npm ci` and always runs the code in front of you.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sourceEntry = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const distEntry = new URL('../dist/bin.js', import.meta.url);

// Resolved from here, not from the working directory, which may be outside the repo.
function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return undefined;
  }
}

const tsx = existsSync(sourceEntry) ? tsxLoader() : undefined;
if (tsx === undefined) {
  await import(distEntry.href);
} else {
  // `--conditions=source` makes the sibling packages resolve to their src/ as well.
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', tsx, sourceEntry, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // A terminal's Ctrl-C reaches the child too (same process group); a kill of this process is
  // passed on, and the child's exit decides ours.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => {
    if (signal !== 'SIGINT') child.kill(signal);
  };
  for (const signal of signals) process.on(signal, forward);
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    for (const s of signals) process.off(s, forward);
    process.kill(process.pid, signal);
  });
}
