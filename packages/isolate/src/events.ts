// Non-fetch events a worker handles (cron triggers, queue batches, RPC calls from other
// workers), and what comes back.

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

/**
 * A method call from another worker (a service binding's `await env.SVC.method(*args)`):
 * Python runs `getattr(Entrypoint(ctx, env), method)(*args)`.
 */
export interface RpcEvent {
  type: 'rpc';
  /** A class of the worker's main module (default `Default`, a `WorkerEntrypoint`). */
  entrypoint?: string;
  method: string;
  /** Encoded by `workers._rpc.to_rpc` (structured clone data; tagged Request/Response). */
  args: unknown[];
}

/** An event for {@link Isolate.dispatch}. */
export type WorkerEvent = ScheduledEvent | QueueEvent | RpcEvent;

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

/** A Python exception that crossed from the called worker. */
export interface RpcError {
  /** The exception's class name, e.g. `ValueError`. */
  name: string;
  message: string;
  /** The remote traceback (also written to the called worker's log). */
  traceback?: string;
}

/**
 * What an RPC call returned: its value (encoded as its arguments are), or the exception it
 * raised. A method that does not exist or is private (`_name`) is an exception (`TypeError`).
 */
export type RpcResult =
  | { type: 'rpc'; outcome: 'ok'; value: unknown }
  | { type: 'rpc'; outcome: 'exception'; error: RpcError };

export type WorkerEventResult = ScheduledResult | QueueResult | RpcResult;

/** The result type for an event type: `scheduled` gives a {@link ScheduledResult}. */
export type EventResultFor<E extends WorkerEvent> = E extends ScheduledEvent
  ? ScheduledResult
  : E extends QueueEvent
    ? QueueResult
    : RpcResult;
