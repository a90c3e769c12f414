import type { Logger } from '../logger.js';

/**
 * A logger that forwards to whatever `entry` holds now, tagging lines with its worker name: a
 * pooled thread logs as `(parked)` or `(builder)` until a worker takes it, then as that worker.
 */
export function forwarding(entry: { logger: Logger; name: string }): Logger {
  const tag = (obj: object) => ({ ...obj, worker: entry.name });
  return {
    debug: (obj, msg) => entry.logger.debug(tag(obj), msg),
    info: (obj, msg) => entry.logger.info(tag(obj), msg),
    warn: (obj, msg) => entry.logger.warn(tag(obj), msg),
    error: (obj, msg) => entry.logger.error(tag(obj), msg),
  };
}
