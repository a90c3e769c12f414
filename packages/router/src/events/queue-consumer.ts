// Queue consumers: batches of a queue go to the consuming worker's `queue` handler; what the
// handler decided per message (ack, or retry with a delay) goes back to the store, which keeps
// every message until it is acked and moves it to the dead-letter queue past max_retries.
import type { Logger, QueueConsumer, QueueEvent, QueueResult } from '@pyworkers/isolate';

/** A message as the store leases it (`@pyworkers/bindings` QueueStore). */
export interface LeasedMessage {
  id: string;
  timestamp: Date;
  body: unknown;
  attempts: number;
}

/** What the consumer needs of the store's queues (`store.queues()` of `@pyworkers/bindings`). */
export interface ConsumerQueues {
  pull(queue: string, options: { max: number; visibilityMs: number }): Promise<LeasedMessage[]>;
  settle(
    queue: string,
    settlement: { acked: string[]; retried: { id: string; delaySeconds?: number }[] },
    settings: { maxRetries: number; deadLetterQueue?: string; retryDelay?: number },
  ): Promise<{ deadLettered: string[]; dropped: string[] }>;
}

/** Options of {@link QueueConsumerLoop}. */
export interface QueueConsumerOptions {
  worker: string;
  consumer: QueueConsumer;
  queues: () => Promise<ConsumerQueues>;
  /** Runs the worker's queue handler (Router.dispatch). */
  dispatch: (event: QueueEvent) => Promise<QueueResult>;
  logger: Logger;
  /** How often an empty queue is looked at (default 100 ms). */
  pollMs?: number;
  /** How long a delivered batch stays leased before another delivery may take it (default 5 min). */
  leaseMs?: number;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/**
 * Delivers one queue's messages to one worker, a batch at a time: a batch goes out when it holds
 * `maxBatchSize` messages or `maxBatchTimeout` seconds after its first message was taken.
 */
export class QueueConsumerLoop {
  private readonly stop$ = new AbortController();
  private running: Promise<void> | undefined;

  constructor(private readonly options: QueueConsumerOptions) {}

  start(): void {
    this.running ??= this.loop().catch((err: unknown) => {
      this.options.logger.error(
        {
          worker: this.options.worker,
          queue: this.options.consumer.queue,
          err: (err as Error).message,
        },
        'queue consumer stopped',
      );
    });
  }

  /** Stops taking batches; a batch being handled finishes and is settled first. */
  async stop(): Promise<void> {
    this.stop$.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { consumer, pollMs = 100, leaseMs = 300_000 } = this.options;
    const signal = this.stop$.signal;
    const queues = await this.options.queues();
    while (!signal.aborted) {
      const batch = await queues.pull(consumer.queue, {
        max: consumer.maxBatchSize,
        visibilityMs: leaseMs,
      });
      if (batch.length === 0) {
        await sleep(pollMs, signal);
        continue;
      }
      const deadline = Date.now() + consumer.maxBatchTimeout * 1000;
      while (batch.length < consumer.maxBatchSize && !signal.aborted) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await sleep(Math.min(pollMs, left), signal);
        batch.push(
          ...(await queues.pull(consumer.queue, {
            max: consumer.maxBatchSize - batch.length,
            visibilityMs: leaseMs,
          })),
        );
      }
      await this.deliver(queues, batch);
    }
  }

  private async deliver(queues: ConsumerQueues, batch: LeasedMessage[]): Promise<void> {
    const { worker, consumer, logger } = this.options;
    let result: QueueResult;
    try {
      result = await this.options.dispatch({
        type: 'queue',
        queue: consumer.queue,
        messages: batch.map((m) => ({
          id: m.id,
          timestamp: m.timestamp.getTime(),
          body: m.body,
          attempts: m.attempts,
        })),
      });
    } catch (err) {
      // No queue handler, a crash, a timeout: every message is retried, as on Cloudflare.
      logger.error(
        { worker, queue: consumer.queue, messages: batch.length, err: (err as Error).message },
        'queue batch failed',
      );
      result = {
        type: 'queue',
        outcome: 'exception',
        messages: batch.map((m) => ({ id: m.id, action: 'retry' })),
      };
    }
    if (result.outcome === 'exception' && result.error)
      logger.warn({ worker, queue: consumer.queue }, `queue handler raised: ${result.error}`);
    const acked = result.messages.filter((m) => m.action === 'ack').map((m) => m.id);
    const retried = result.messages
      .filter((m) => m.action === 'retry')
      .map((m) =>
        m.delaySeconds !== undefined ? { id: m.id, delaySeconds: m.delaySeconds } : { id: m.id },
      );
    const settled = await queues.settle(
      consumer.queue,
      { acked, retried },
      {
        maxRetries: consumer.maxRetries,
        ...(consumer.deadLetterQueue ? { deadLetterQueue: consumer.deadLetterQueue } : {}),
        ...(consumer.retryDelay !== undefined ? { retryDelay: consumer.retryDelay } : {}),
      },
    );
    if (settled.deadLettered.length > 0)
      logger.warn(
        { worker, queue: consumer.queue, messages: settled.deadLettered },
        `moved to dead-letter queue ${consumer.deadLetterQueue} after ${consumer.maxRetries} retries`,
      );
  }
}
