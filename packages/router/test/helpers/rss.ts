// Resident memory of the router (this process) and of a host process, read from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size of `pid` and every process below it (a sandboxed host runs under bwrap). */
export function treeRss(pid: number): number {
  let kib = 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
  let total = kib * 1024;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {}
    for (const child of children.split(' ').filter(Boolean)) total += treeRss(Number(child));
  }
  return total;
}

/**
 * Samples every 25 ms while `run` runs; resolves with the peak growth over the start of the
 * router's RSS (this process), of the host's process tree, and of the router's ArrayBuffer
 * memory (`process.memoryUsage().arrayBuffers`: live buffers and dead ones no GC freed yet).
 */
export async function peakGrowth<T>(
  pids: { router: number; host: number },
  run: () => Promise<T>,
): Promise<{ result: T; router: number; host: number; routerBuffers: number }> {
  const sample = () => {
    const { rss, arrayBuffers } = process.memoryUsage();
    return { router: rss, host: treeRss(pids.host), routerBuffers: arrayBuffers };
  };
  const base = sample();
  const peak = { ...base };
  const timer = setInterval(() => {
    const now = sample();
    peak.router = Math.max(peak.router, now.router);
    peak.host = Math.max(peak.host, now.host);
    peak.routerBuffers = Math.max(peak.routerBuffers, now.routerBuffers);
  }, 25);
  try {
    const result = await run();
    const end = sample();
    return {
      result,
      router: Math.max(peak.router, end.router) - base.router,
      host: Math.max(peak.host, end.host) - base.host,
      routerBuffers: Math.max(peak.routerBuffers, end.routerBuffers) - base.routerBuffers,
    };
  } finally {
    clearInterval(timer);
  }
}
