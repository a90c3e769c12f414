// Cron triggers: each worker's `triggers.crons` fire its `scheduled` handler on time, through
// the same placement as requests (Router.dispatch). Expressions are parsed by the bindings
// package's cron helper (croner), injected here so the timing logic stays testable.
import type { Logger } from '@pyworkers/isolate';

/** A parsed cron expression: the next time it fires strictly after `after`. */
export interface CronSchedule {
  next(after: Date): Date | null;
}

/** One cron trigger of one worker. */
export interface CronTrigger {
  worker: string;
  cron: string;
}

/** Options of {@link CronScheduler}. */
export interface CronSchedulerOptions {
  triggers: CronTrigger[];
  parse: (expr: string) => CronSchedule;
  /** Runs the worker's scheduled handler; resolves when it finished (its outcome is logged by the caller). */
  fire: (trigger: CronTrigger, scheduledTime: number) => Promise<void>;
  logger: Logger;
  now?: () => number;
}

// setTimeout takes at most a 32-bit signed delay; a trigger further out re-arms on the way.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Fires every trigger at its times until stopped; a trigger never overlaps itself. */
export class CronScheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: CronSchedulerOptions) {
    this.now = options.now ?? Date.now;
    // Parse all first: a bad expression fails the router's start, not a timer an hour later.
    this.schedules = options.triggers.map((t) => ({ trigger: t, schedule: options.parse(t.cron) }));
  }

  private readonly schedules: { trigger: CronTrigger; schedule: CronSchedule }[];

  /** Arms every trigger. */
  start(): void {
    for (const s of this.schedules) this.arm(s.trigger, s.schedule, this.now());
  }

  /** Disarms every trigger (a handler already running finishes). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private arm(trigger: CronTrigger, schedule: CronSchedule, after: number): void {
    if (this.stopped) return;
    const next = schedule.next(new Date(after));
    if (!next) return; // an expression that never fires again
    const at = next.getTime();
    const wait = (): void => {
      const delay = at - this.now();
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (this.stopped) return;
          if (at - this.now() > 0) {
            wait(); // woke early (a long delay in steps, or a clock change)
            return;
          }
          void this.run(trigger, schedule, at);
        },
        Math.max(0, Math.min(delay, MAX_DELAY_MS)),
      );
      timer.unref();
      this.timers.add(timer);
    };
    wait();
  }

  private async run(trigger: CronTrigger, schedule: CronSchedule, at: number): Promise<void> {
    try {
      await this.options.fire(trigger, at);
    } catch (err) {
      this.options.logger.error(
        { worker: trigger.worker, cron: trigger.cron, err: (err as Error).message },
        'scheduled event failed',
      );
    }
    // Next after the later of its own time and now: a run longer than the period skips the
    // times it missed instead of firing them back to back.
    this.arm(trigger, schedule, Math.max(at, this.now()));
  }
}
