// Non-fetch events a worker handles (cron triggers and queue batches), and what comes back.

/** A cron trigger firing: Python's `scheduled(self, controller, env, ctx)` gets it. */
export interface ScheduledEvent {
  type: 'scheduled';
  /** The cron expression that fired, e.g. `*\/5 * * * *`. */
  cron: string;
  /** When it was due, in milliseconds since the epoch (`controller.scheduled_time`). */
  scheduledTime: number;
}

/** One message of a queue batch. */
export interface QueueMessage {
  id: string;
  /** When it was sent, in milliseconds since the epoch (Python sees a UTC `datetime`). */
  timestamp: number;
  /** Structured-clone data: JSON-like values, strings, `Uint8Array` (Python: `bytes`). */
  body: unknown;
  /** Deliveries so far including this one (starts at 1). */
  attempts: number;
}

/** A batch from one queue: Python's `queue(self, batch, env, ctx)` gets it. */
export interface QueueEvent {
  type: 'queue';
  /** Name of the queue the messages come from (`batch.queue`). */
  queue: string;
  messages: QueueMessage[];
}

/** An event for {@link Isolate.dispatch}. */
export type WorkerEvent = ScheduledEvent | QueueEvent;

/** `ok`: the handler returned; `exception`: it raised (the traceback went to the log). */
export type EventOutcome = 'ok' | 'exception';

/** What a `scheduled` handler made of its event. */
export interface ScheduledResult {
  type: 'scheduled';
  outcome: EventOutcome;
  /** The handler called `controller.no_retry()`. */
  noRetry: boolean;
  /** One line, e.g. `ValueError: boom`, when the handler raised. */
  error?: string;
}

/** The final decision for one queue message. */
export interface QueueMessageOutcome {
  id: string;
  action: 'ack' | 'retry';
  /** Given to `msg.retry(delay_seconds=)` or `batch.retry_all(delay_seconds=)`. */
  delaySeconds?: number;
}

/**
 * What a `queue` handler made of its batch: every message with its final action, resolved as
 * Cloudflare does (a message's own `ack()`/`retry()` first, then `ack_all()`/`retry_all()`,
 * else ack when the handler returned and retry when it raised).
 */
export interface QueueResult {
  type: 'queue';
  outcome: EventOutcome;
  error?: string;
  messages: QueueMessageOutcome[];
}

export type WorkerEventResult = ScheduledResult | QueueResult;

/** The result type for an event type: `scheduled` gives a {@link ScheduledResult}. */
export type EventResultFor<E extends WorkerEvent> = E extends ScheduledEvent
  ? ScheduledResult
  : QueueResult;
