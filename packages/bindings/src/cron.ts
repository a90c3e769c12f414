import { Cron } from 'croner';
import { BindingError } from './errors.js';

/** A parsed cron trigger (`triggers.crons` entry); times are UTC, as on Cloudflare. */
export interface CronSchedule {
  /** The expression as written in the config. */
  readonly expr: string;
  /** The first run strictly after `after` (default: now). */
  next(after?: Date): Date;
  /** True when the expression fires at this exact minute. */
  matches(at: Date): boolean;
}

/**
 * Parses a Cloudflare cron trigger: five fields (minute hour day-of-month month day-of-week),
 * names (`MON`, `JAN`), steps, ranges, lists, and `L`, `W`, `#` as Cloudflare allows them.
 * A bad expression is a {@link BindingError} naming it and saying what a good one looks like.
 */
export function parseCron(expr: string): CronSchedule {
  const fields = expr.trim().split(/\s+/);
  const bad = (why: string, cause?: unknown) =>
    new BindingError('ERR_CRON_EXPRESSION', `cron trigger ${JSON.stringify(expr)}: ${why}`, {
      cause,
      hint: 'write five fields, minute hour day-of-month month day-of-week, e.g. "*/5 * * * *" (UTC)',
    });
  if (fields.length !== 5) throw bad(`has ${fields.length} fields, a cron trigger has 5`);
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { timezone: 'Etc/UTC', paused: true });
  } catch (cause) {
    throw bad((cause as Error).message, cause);
  }
  return {
    expr,
    next(after = new Date()) {
      const next = cron.nextRun(after);
      if (!next) throw bad('never fires');
      return next;
    },
    matches(at) {
      const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
      return cron.nextRun(new Date(minute.getTime() - 1))?.getTime() === minute.getTime();
    },
  };
}
