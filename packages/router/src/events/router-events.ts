// The router's side of cron triggers and queue consumers: which workers have them, and the
// stores their queues live in (opened in the router process, next to the host processes').
import { openStore, parseCron, type Store } from '@pyworkers/bindings';
import type { Logger, QueueConsumer } from '@pyworkers/isolate';
import type { Router } from '../router.js';
import { type EventSources, startEventSources } from './event-sources.js';

/** What the router knows of a worker's events. */
export interface WorkerEventConfig {
  name: string;
  crons?: string[];
  queueConsumers?: QueueConsumer[];
  state?: { stateDir: string };
}

/** Starts the event sources of `workers` on `router`; none when no worker has any. */
export function routerEvents(
  workers: WorkerEventConfig[],
  router: Pick<Router, 'dispatch'>,
  logger: Logger,
): EventSources | undefined {
  const busy = workers.filter((w) => w.crons?.length || w.queueConsumers?.length);
  if (busy.length === 0) return undefined;
  const stores = new Map<string, Store>();
  const sources = startEventSources({
    workers: busy.map((w) => ({
      name: w.name,
      ...(w.crons ? { crons: w.crons } : {}),
      ...(w.queueConsumers ? { queueConsumers: w.queueConsumers } : {}),
      ...(w.state ? { stateDir: w.state.stateDir } : {}),
    })),
    dispatchScheduled: (name, event) => router.dispatch(name, event),
    dispatchQueue: (name, event) => router.dispatch(name, event),
    parseCron: (expr) => {
      const cron = parseCron(expr);
      return { next: (after) => cron.next(after) };
    },
    queuesAt: async (stateDir) => {
      let store = stores.get(stateDir);
      if (!store) {
        store = openStore({ stateDir, logger });
        stores.set(stateDir, store);
      }
      return store.queues();
    },
    logger,
  });
  return {
    async stop() {
      await sources.stop();
      await Promise.all([...stores.values()].map((s) => s.close()));
      stores.clear();
    },
  };
}
