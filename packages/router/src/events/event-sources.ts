// What makes a worker run without a request: its cron triggers and its queue consumers. The
// router starts them with itself and stops them before it drains.
import type {
  Logger,
  QueueConsumer,
  QueueEvent,
  QueueResult,
  ScheduledEvent,
  ScheduledResult,
} from '@pyworkers/isolate';
import { type CronSchedule, CronScheduler } from './cron.js';
import { type ConsumerQueues, QueueConsumerLoop } from './queue-consumer.js';

/** A worker's event sources, from its config. */
export interface WorkerEvents {
  name: string;
  crons?: string[];
  queueConsumers?: QueueConsumer[];
  /** Where its queues are stored (its state directory). */
  stateDir?: string;
}

/** Options of {@link startEventSources}. */
export interface EventSourcesOptions {
  workers: WorkerEvents[];
  dispatchScheduled: (worker: string, event: ScheduledEvent) => Promise<ScheduledResult>;
  dispatchQueue: (worker: string, event: QueueEvent) => Promise<QueueResult>;
  parseCron: (expr: string) => CronSchedule;
  /** The queues of a state directory (the store of `@pyworkers/bindings`). */
  queuesAt: (stateDir: string) => Promise<ConsumerQueues>;
  logger: Logger;
}

/** Running event sources. */
export interface EventSources {
  stop(): Promise<void>;
}

/** Runs a worker's `scheduled` handler and logs the outcome as Cloudflare's dashboard shows it. */
export async function runScheduled(
  dispatch: EventSourcesOptions['dispatchScheduled'],
  worker: string,
  cron: string,
  scheduledTime: number,
  logger: Logger,
): Promise<ScheduledResult> {
  const t0 = performance.now();
  const result = await dispatch(worker, { type: 'scheduled', cron, scheduledTime });
  const fields = {
    worker,
    cron,
    outcome: result.outcome,
    ms: +(performance.now() - t0).toFixed(2),
  };
  if (result.outcome === 'ok') logger.info(fields, `scheduled "${cron}": ok (${fields.ms} ms)`);
  else
    logger.error(
      { ...fields, error: result.error },
      `scheduled "${cron}": the handler raised ${result.error}`,
    );
  return result;
}

/** Arms every cron trigger and starts every queue consumer. A bad cron expression throws here. */
export function startEventSources(options: EventSourcesOptions): EventSources {
  const { logger } = options;
  const scheduler = new CronScheduler({
    triggers: options.workers.flatMap((w) =>
      (w.crons ?? []).map((cron) => ({ worker: w.name, cron })),
    ),
    parse: options.parseCron,
    fire: async ({ worker, cron }, at) => {
      await runScheduled(options.dispatchScheduled, worker, cron, at, logger);
    },
    logger,
  });
  const consumers: QueueConsumerLoop[] = [];
  for (const w of options.workers) {
    for (const consumer of w.queueConsumers ?? []) {
      if (!w.stateDir) {
        logger.warn(
          { worker: w.name, queue: consumer.queue },
          'queue consumer has no state directory; not started',
        );
        continue;
      }
      const stateDir = w.stateDir;
      consumers.push(
        new QueueConsumerLoop({
          worker: w.name,
          consumer,
          queues: () => options.queuesAt(stateDir),
          dispatch: (event) => options.dispatchQueue(w.name, event),
          logger,
        }),
      );
    }
  }
  scheduler.start();
  for (const c of consumers) c.start();
  return {
    async stop() {
      scheduler.stop();
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}

const SCHEDULED_PATHS = new Set(['/__scheduled', '/cdn-cgi/handler/scheduled']);

/** Whether `path` (with its query) is one of the dev endpoints that trigger `scheduled`. */
export function isScheduledPath(path: string): boolean {
  const q = path.indexOf('?');
  return SCHEDULED_PATHS.has(q < 0 ? path : path.slice(0, q));
}

/**
 * `GET /__scheduled?cron=...` and `/cdn-cgi/handler/scheduled?cron=...&time=...` as `wrangler dev
 * --test-scheduled` answers them: the first says "Ran scheduled event", the second (Miniflare's)
 * gives the outcome, `ok` (200) or `exception` (500).
 */
export async function answerScheduledPath(
  path: string,
  worker: string,
  dispatch: EventSourcesOptions['dispatchScheduled'],
  logger: Logger,
): Promise<{ status: number; body: string }> {
  const url = new URL(path, 'http://localhost');
  const cron = url.searchParams.get('cron') ?? '';
  const time = Number(url.searchParams.get('time'));
  const scheduledTime = Number.isFinite(time) && time > 0 ? time : Date.now();
  const result = await runScheduled(dispatch, worker, cron, scheduledTime, logger);
  if (url.pathname === '/__scheduled')
    return { status: result.outcome === 'ok' ? 200 : 500, body: 'Ran scheduled event' };
  return { status: result.outcome === 'ok' ? 200 : 500, body: result.outcome };
}
