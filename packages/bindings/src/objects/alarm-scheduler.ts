import { type Logger, silentLogger } from '../logger.js';
import type { DurableObjectNamespaceStore } from './namespace.js';

/** What an alarm handler is told (Cloudflare's `alarmInfo`). */
export interface AlarmRun {
  retryCount: number;
  isRetry: boolean;
}

/** Options of {@link AlarmScheduler}. */
export interface AlarmSchedulerOptions {
  /** Runs the object's `alarm()`; a rejection is a failed run (retried with backoff). */
  run: (id: string, info: AlarmRun) => Promise<void>;
  logger?: Logger;
}

const MAX_TIMER = 2 ** 31 - 1;

/**
 * Fires one namespace's alarms. `start()` reads every alarm back from the files (an alarm set
 * before a restart fires after it); `notify` (give it as the namespace's `onAlarmChange`) keeps
 * the schedule current. One run per object at a time; the outcome is settled in the object's
 * own file, so a crash mid-run leaves the alarm there to fire again.
 */
export class AlarmScheduler {
  readonly #due = new Map<string, number>();
  readonly #running = new Set<string>();
  #ns: DurableObjectNamespaceStore | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #logger: Logger;

  constructor(readonly options: AlarmSchedulerOptions) {
    this.#logger = options.logger ?? silentLogger;
  }

  /** The namespace's `onAlarmChange` hook. */
  readonly notify = (id: string, scheduledTime: number | null): void => {
    if (scheduledTime === null) this.#due.delete(id);
    else this.#due.set(id, scheduledTime);
    this.#arm();
  };

  /** Loads the alarms stored in `ns` and starts firing them. */
  async start(ns: DurableObjectNamespaceStore): Promise<void> {
    this.#ns = ns;
    for (const { id, alarm } of await ns.alarms()) this.#due.set(id, alarm.scheduledTime);
    this.#arm();
  }

  #arm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || !this.#ns || this.#due.size === 0) return;
    const next = Math.min(...this.#due.values());
    const delay = Math.min(Math.max(0, next - Date.now()), MAX_TIMER);
    this.#timer = setTimeout(() => this.#fire(), delay);
    this.#timer.unref();
  }

  #fire(): void {
    const now = Date.now();
    for (const [id, time] of this.#due) {
      if (time > now || this.#running.has(id)) continue;
      this.#due.delete(id);
      void this.#runOne(id);
    }
    this.#arm();
  }

  async #runOne(id: string): Promise<void> {
    const ns = this.#ns;
    if (!ns) return;
    this.#running.add(id);
    try {
      const storage = ns.storage(id);
      const state = await storage.alarmState();
      if (!state || state.scheduledTime > Date.now()) {
        if (state) this.#due.set(id, state.scheduledTime);
        return;
      }
      let ok = true;
      try {
        await this.options.run(id, { retryCount: state.retryCount, isRetry: state.retryCount > 0 });
      } catch (error) {
        ok = false;
        this.#logger.error(
          { id, err: error, retryCount: state.retryCount },
          'durable object alarm failed',
        );
      }
      if (!this.#closed) await storage.settleAlarm(state.scheduledTime, ok);
    } catch (error) {
      this.#logger.error({ id, err: error }, 'durable object alarm could not run');
    } finally {
      this.#running.delete(id);
      this.#arm();
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
