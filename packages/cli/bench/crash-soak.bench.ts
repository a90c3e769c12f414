// Soak of the crash test (#14): CRASH_CYCLES (default 5) rounds of `pyworkers serve --state DIR`,
// four client connections writing to KV, D1 and R2 through the worker, `kill -9` of the whole
// process tree after a random number of acknowledged writes (CRASH_MIN..CRASH_MAX, default
// 100..800), and a restart on the same state that reads back every write acknowledged in any
// round so far. Prints one line per round. `npm run bench:crash-soak -w pyworkers`.
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Dump,
  dumpUrl,
  killTree,
  lostWrites,
  serveCrash,
  startWriters,
  writeCrashProject,
} from '../test/helpers/crash-serve.js';
import { runCli } from '../test/helpers/run-cli.js';

const CYCLES = Number(process.env.CRASH_CYCLES ?? 5);
const MIN = Number(process.env.CRASH_MIN ?? 100);
const MAX = Number(process.env.CRASH_MAX ?? 800);
const say = (line: string) => process.stdout.write(`${line}\n`);

const root = mkdtempSync(join(tmpdir(), 'pyw-crash-soak-'));
try {
  const init = await runCli(['init', 'app'], { cwd: root });
  if (init.code !== 0) throw new Error(init.stderr);
  const project = join(root, 'app');
  const state = join(root, 'state');
  writeCrashProject(project);
  say(
    `crash soak: ${CYCLES} rounds, kill -9 after ${MIN}-${MAX} acknowledged writes (KV + D1 + R2 + DO storage each), 4 connections, load ${os.loadavg()[0]?.toFixed(1)}`,
  );
  say('round  acked  total-acked  writes/s  processes-killed  restart-to-ready  lost  bad');
  const acked: string[] = [];
  let lostTotal = 0;
  let badTotal = 0;
  // Set by each round for the line printed after the next restart.
  let last = { acked: 0, rate: 0, killed: 0 };
  for (let round = 1; round <= CYCLES + 1; round++) {
    const t0 = performance.now();
    const { proc, url } = await serveCrash(project, state);
    const ready = performance.now() - t0;
    if (round === 1) await fetch(`${url}/init`);
    if (round > 1) {
      // Read back everything acknowledged in the rounds before this restart.
      const prefixes = Array.from({ length: round - 1 }, (_, r) => `r${r + 1}`);
      const dump = (await (await fetch(dumpUrl(url, prefixes))).json()) as Dump;
      const lost = Object.values(lostWrites(acked, dump)).flat().length;
      lostTotal += lost;
      badTotal += dump.bad.length;
      say(
        `${String(round - 1).padStart(5)}  ${String(last.acked).padStart(5)}  ${String(acked.length).padStart(11)}  ${last.rate.toFixed(0).padStart(8)}  ${String(last.killed).padStart(16)}  ${`${(ready / 1000).toFixed(1)} s`.padStart(16)}  ${String(lost).padStart(4)}  ${String(dump.bad.length).padStart(3)}`,
      );
    }
    if (round > CYCLES) {
      await proc.stop();
      break;
    }
    const target = MIN + Math.floor(Math.random() * (MAX - MIN + 1));
    let enough: () => void = () => {};
    const reached = new Promise<void>((r) => {
      enough = r;
    });
    const started = performance.now();
    const writers = startWriters(url, {
      prefix: `r${round}`,
      onAck: (n) => {
        if (n >= target) enough();
      },
    });
    await reached;
    const seconds = (performance.now() - started) / 1000;
    const killed = await killTree(proc.child.pid!);
    const results = await writers.done;
    const failed = results.flatMap((r) => r.failed);
    if (failed.length) throw new Error(`writes refused before the kill: ${JSON.stringify(failed)}`);
    const got = results.flatMap((r) => r.acked);
    acked.push(...got);
    last = { acked: got.length, rate: got.length / seconds, killed: killed.length };
  }
  say(
    `\n${acked.length} acknowledged writes over ${CYCLES} kill -9 rounds: ${lostTotal} lost, ${badTotal} read back wrong`,
  );
  if (lostTotal || badTotal) process.exitCode = 1;
} finally {
  rmSync(root, { recursive: true, force: true });
}
