// Isolates a launcher's caller handed back (evicted, idle): kept for the same worker's next cold
// start, which takes one instead of a swap. A swapped isolate keeps its worker's JS realm, so
// it never serves another worker.
import type { Isolate } from '../isolate.js';
import type { PreparedBundle } from './prepared.js';

/** Retired isolates by the bundle they run, the list filled first first (the oldest goes). */
export class Standby {
  private readonly lists = new Map<PreparedBundle, Isolate[]>();

  constructor(private readonly max: number) {}

  /** How many isolates are kept. */
  get size(): number {
    return [...this.lists.values()].reduce((n, l) => n + l.length, 0);
  }

  /** Whether an isolate may be kept at all (`max` above 0). */
  get enabled(): boolean {
    return this.max > 0;
  }

  /** Keeps `isolate` for `bundle`'s next cold start; closes the oldest ones past `max`. */
  async keep(bundle: PreparedBundle, isolate: Isolate): Promise<void> {
    const list = this.lists.get(bundle) ?? [];
    list.push(isolate);
    this.lists.set(bundle, list);
    const extra: Isolate[] = [];
    while (this.size > this.max) {
      // Oldest first: the list that was filled first holds the isolate retired longest ago.
      const [key, oldest] = this.lists.entries().next().value as [PreparedBundle, Isolate[]];
      extra.push(oldest.shift()!);
      if (oldest.length === 0) this.lists.delete(key);
    }
    await Promise.all(extra.map((i) => i.close()));
  }

  /** An idle kept isolate running `bundle`, taken out, or none. */
  take(bundle: PreparedBundle): Isolate | undefined {
    // A new build of a worker makes its older builds' isolates useless: close them now.
    for (const [key, list] of this.lists) {
      if (key !== bundle && key.name === bundle.name) {
        this.lists.delete(key);
        for (const i of list) void i.close();
      }
    }
    const list = this.lists.get(bundle);
    if (!list) return undefined;
    let found: Isolate | undefined;
    while (!found && list.length > 0) {
      const i = list.pop()!;
      if (i.idle) found = i;
      else void i.close();
    }
    // What is left goes to the end: this worker was used most recently.
    this.lists.delete(bundle);
    if (list.length > 0) this.lists.set(bundle, list);
    return found;
  }

  /** Takes every kept isolate out, to close. */
  drain(): Isolate[] {
    const all = [...this.lists.values()].flat();
    this.lists.clear();
    return all;
  }
}
