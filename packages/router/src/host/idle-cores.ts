// Whether a hot worker of an in-process host should get another isolate thread: only when the
// machine had a core to spare while it was hot. The router's main thread is one of that host's
// busy threads; on a 2-core box a hello worker spread over two isolate threads made three
// busy threads for two cores (router README, "HTTP", session 14: one isolate thread served
// 1.12x the requests at 0.90x the CPU per request), while a CPU-bound handler leaves the main
// thread idle and does use a second core.
import { cpus } from 'node:os';

/** How long a worker must stay hot before its spread is decided on the idle time seen meanwhile. */
export const SPREAD_WINDOW_MS = 500;
/** Idle cores, averaged over that window, that let a hot worker spread. */
export const SPREAD_IDLE_CORES = 0.75;

/** Idle milliseconds of every core so far (os.cpus(): /proc/stat on Linux). */
function idleMs(): number {
  let sum = 0;
  for (const cpu of cpus()) sum += cpu.times.idle;
  return sum;
}

/** One watch per hot worker: since when, and the idle time then. */
interface Watch {
  since: number;
  idle: number;
  seen: number;
}

/** Decides, per worker, whether spreading it over another isolate would find a free core. */
export class IdleCoreGate {
  private readonly watching = new Map<string, Watch>();

  constructor(
    private readonly windowMs = SPREAD_WINDOW_MS,
    private readonly minIdleCores = SPREAD_IDLE_CORES,
    private readonly now: () => number = () => performance.now(),
    private readonly idle: () => number = idleMs,
  ) {}

  /**
   * `worker` is hot (it would spread): true once it stayed hot for a window during which the
   * machine's cores were idle for at least `minIdleCores` on average; false until then.
   */
  maySpread(worker: string): boolean {
    const now = this.now();
    const w = this.watching.get(worker);
    // Not hot a moment ago (no call within two windows): start watching anew.
    if (!w || now - w.seen > 2 * this.windowMs) {
      this.watching.set(worker, { since: now, idle: this.idle(), seen: now });
      return false;
    }
    w.seen = now;
    if (now - w.since < this.windowMs) return false;
    const idle = this.idle();
    const cores = (idle - w.idle) / (now - w.since);
    this.watching.delete(worker);
    return cores >= this.minIdleCores;
  }
}
