// The launcher `pyworkers serve` gives each isolate host: isolates pre-booted from the baseline
// snapshot and parked, so a cold start swaps the worker's snapshot in place (milliseconds)
// instead of booting a thread and restoring (~0.3-1 s). Host processes import this module by
// URL; its default export is the launcher the router's host uses.
import { IsolateLauncher } from '@pyworkers/isolate';

/** Parked isolates per host (`PYWORKERS_POOL_SIZE`, default 1; each holds ~45-85 MB idle). */
export function poolSize(env: Record<string, string | undefined> = process.env): number {
  const n = Number(env.PYWORKERS_POOL_SIZE ?? 1);
  return Number.isInteger(n) && n >= 0 ? n : 1;
}

const launcher = new IsolateLauncher({ poolSize: poolSize() });
// Park the pool as the host starts, so even a host's first cold start is a swap. A failure here
// is not fatal: start() boots a fresh isolate when no parked one is ready.
launcher.warm().catch(() => {});

export default launcher;
