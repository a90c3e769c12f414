import { tmpdir } from 'node:os';
import { cacheDir } from '@pyworkers/common';

/**
 * glibc's malloc gives every thread that allocates its own arena (up to 8 per core) and keeps
 * what was freed in it. An isolate thread's V8 frees its boot-time compilation and parsing
 * memory that way: with one arena per isolate thread a host process held ~40 MiB more RSS for
 * one worker and its parked isolate (router README, "HTTP": measured alternatives). One arena
 * for the whole process: the main one, which gives freed memory back.
 */
const MALLOC_TUNABLES = 'glibc.malloc.arena_max=1';

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
