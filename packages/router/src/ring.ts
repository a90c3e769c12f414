/** A 32-bit FNV-1a hash with a murmur3 finaliser (FNV alone clusters similar short keys). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A consistent-hash ring over hosts `0..hosts-1`, each placed at `vnodes` points so that keys
 * spread evenly and adding a host moves only about 1/n of them.
 */
export class HashRing {
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;

  constructor(
    readonly hosts: number,
    vnodes = 160,
  ) {
    const entries: [number, number][] = [];
    for (let h = 0; h < hosts; h++)
      for (let v = 0; v < vnodes; v++) entries.push([hash32(`host-${h}#${v}`), h]);
    entries.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(entries, (e) => e[0]);
    this.owners = Uint16Array.from(entries, (e) => e[1]);
  }

  /** Index of the first ring point at or after `key`'s hash (wrapping). */
  private start(key: string): number {
    const k = hash32(key);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.points.length ? 0 : lo;
  }

  /**
   * Visits hosts in ring order from `key`'s position, each host once, until `visit` returns
   * true; answers that host, or -1 when `visit` accepted none.
   */
  walk(key: string, visit: (host: number) => boolean): number {
    const n = this.points.length;
    if (n === 0) return -1;
    const seen = new Uint8Array(this.hosts);
    let distinct = 0;
    const first = this.start(key);
    for (let i = 0; i < n && distinct < this.hosts; i++) {
      const host = this.owners[(first + i) % n]!;
      if (seen[host]) continue;
      seen[host] = 1;
      distinct++;
      if (visit(host)) return host;
    }
    return -1;
  }
}
