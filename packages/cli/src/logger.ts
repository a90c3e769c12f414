import { pino } from 'pino';

/** The CLI's logger: JSON lines on stderr, level from `PYWORKERS_LOG` (default `info`). */
export function createCliLogger(level = process.env.PYWORKERS_LOG ?? 'info'): pino.Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}
