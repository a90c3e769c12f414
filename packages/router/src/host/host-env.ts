import { tmpdir } from 'node:os';
import { cacheDir } from '@pyworkers/common';

/**
 * glibc's malloc gives every thread that allocates its own arena (up to 8 per core) and keeps
 * what was freed in it. An isolate thread's V8 frees its boot-time compilation and parsing
 * memory that way: with one arena per isolate thread a host process held ~40 MiB more RSS for
 * one worker and its parked isolate (router README, "HTTP": measured alternatives). One arena
 * for the whole process: the main one, which gives freed memory back.
 *
 * Even that one gives back only what is free at its top: V8's zone segments (32 KiB each, the
 * parser's and compilers' memory, ~28 MiB while an isolate boots) freed between allocations that
 * live on left ~35 MiB of holes in a host with one worker. From 32 KiB up, blocks are mapped on
 * their own and unmapped when freed (a fixed threshold also stops glibc raising it to the size of
 * the largest buffer freed so far): that host's malloc heap 53-61 -> 18-21 MiB.
 */
const MALLOC_TUNABLES = 'glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=32768';

/**
 * The whole environment of an isolate host process: what it needs, computed here, and none of
 * the operator's variables (tokens, cloud credentials, database URLs). Workers' secrets reach a
 * host over IPC, per worker, never through the environment. Workers run in UTC, as on
 * Cloudflare.
 */
export function hostProcessEnv(): Record<string, string> {
  return {
    PYWORKERS_CACHE_DIR: cacheDir(),
    TMPDIR: tmpdir(),
    TZ: 'UTC',
    GLIBC_TUNABLES: MALLOC_TUNABLES,
  };
}
