// Which host a Durable Object lives on: a hash of its id, so that every router-side caller
// (any worker, any host process, the alarm schedule) sends one id's events to one host.

/** The host (0..hosts-1) that holds the object `id` (64 hex digits: a hash or random already). */
export function objectHostIndex(id: string, hosts: number): number {
  if (hosts <= 1) return 0;
  const head = Number.parseInt(id.slice(0, 8), 16);
  return (Number.isFinite(head) ? head : 0) % hosts;
}
