import type { IsolateHandle, Launcher } from '../launcher.js';

/** How long a cold start waits at most for an isolate of its worker that is being retired. */
const RETIRING_WAIT_MS = 50;
const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * A host's evicted isolates being retired (their lane closing first), by worker: a cold start
 * of the worker waits a moment for one, as the launcher may then give it back to it (cheaper
 * than a swap).
 */
export class Retiring {
  private readonly byWorker = new Map<string, Promise<void>>();

  constructor(private readonly launcher: Launcher) {}

  /** Retires `handle`, an evicted isolate of `worker`. */
  retire(worker: string, handle: IsolateHandle): void {
    const { launcher } = this;
    // Its lane first: the router may have sent it requests still; they are answered.
    const retire = async (h: IsolateHandle): Promise<void> => {
      await h.closeLane?.();
      await (launcher.retire ? launcher.retire(h) : h.close());
    };
    const retired: Promise<void> = retire(handle)
      .catch(() => {})
      .finally(() => {
        if (this.byWorker.get(worker) === retired) this.byWorker.delete(worker);
      });
    this.byWorker.set(worker, retired);
  }

  /** What a cold start of `worker` waits for: its isolate being retired, or a short while. */
  wait(worker: string): Promise<void> | undefined {
    const retiring = this.byWorker.get(worker);
    return retiring && Promise.race([retiring, sleep(RETIRING_WAIT_MS)]);
  }
}
