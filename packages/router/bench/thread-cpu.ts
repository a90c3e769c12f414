// CPU time per operation by thread, for a bench's process tree (this process and every process
// under it: the host processes): utime + stime of each thread from /proc/<pid>/task/*/stat,
// read before and after a run. Linux only; elsewhere a snapshot is empty.
import { readdirSync, readFileSync } from 'node:fs';

/** Thread ("pid/tid") -> its process's name and the thread's CPU ticks so far. */
export type ThreadTicks = Map<string, { pid: number; tid: number; ticks: number }>;

// The kernel's USER_HZ: 100 on every Linux node runs on.
const TICKS_PER_SECOND = 100;

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const tasks = (pid: number): string[] => {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
};

/** `root` and the processes under it. */
export function processTree(root = process.pid): number[] {
  const all = [root];
  for (let i = 0; i < all.length; i++)
    for (const tid of tasks(all[i]!)) {
      const kids = read(`/proc/${all[i]}/task/${tid}/children`)?.trim();
      if (kids) all.push(...kids.split(/\s+/).map(Number));
    }
  return all;
}

/** The CPU ticks of every thread of `pids` (default: this process tree). */
export function threadTicks(pids = processTree()): ThreadTicks {
  const out: ThreadTicks = new Map();
  for (const pid of pids)
    for (const tid of tasks(pid)) {
      const stat = read(`/proc/${pid}/task/${tid}/stat`);
      if (!stat) continue;
      // Fields after the name (which may hold spaces): state is field 3, utime 14, stime 15.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${pid}/${tid}`, {
        pid,
        tid: Number(tid),
        ticks: Number(rest[11]) + Number(rest[12]),
      });
    }
  return out;
}

/**
 * Microseconds of CPU per operation between two snapshots, per thread, as lines: each process
 * (`names` labels it, e.g. the router or host N) with its main thread, its other threads by
 * tid, and its total. A tick is 10 ms: over n operations the resolution is 10,000 / n us.
 */
export function cpuPerOp(
  before: ThreadTicks,
  after: ThreadTicks,
  n: number,
  names: (pid: number) => string = (pid) => String(pid),
): string[] {
  const us = (ticks: number): string => ((ticks * 1e6) / TICKS_PER_SECOND / n).toFixed(0);
  const byProcess = new Map<number, { main: number; others: [number, number][] }>();
  let total = 0;
  for (const [key, t] of after) {
    const d = t.ticks - (before.get(key)?.ticks ?? 0);
    if (d <= 0) continue;
    total += d;
    const p = byProcess.get(t.pid) ?? { main: 0, others: [] };
    byProcess.set(t.pid, p);
    if (t.tid === t.pid) p.main += d;
    else p.others.push([t.tid, d]);
  }
  const lines: string[] = [];
  for (const [pid, p] of byProcess) {
    const sum = p.main + p.others.reduce((s, [, d]) => s + d, 0);
    const others = p.others
      .sort((a, b) => b[1] - a[1])
      .map(([tid, d]) => `${tid}: ${us(d)}`)
      .join(', ');
    lines.push(
      `  ${names(pid)} (pid ${pid}): ${us(sum)} us, main thread ${us(p.main)}${others ? `; other threads ${others}` : ''}`,
    );
  }
  lines.push(`  all threads: ${us(total)} us per operation`);
  return lines;
}
