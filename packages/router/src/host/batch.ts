// Messages over the router <-> host process IPC channel go out in batches: every message
// posted during one turn of the event loop is sent as one `batch` message at its end
// (setImmediate). Each `process.send` is a serialization and a write(2) of its own; with ten
// requests in flight that was a fifth of the router's CPU time. Order is kept: every message
// of a channel goes through its batcher.

/** Several messages sent as one; the receiver handles them in order. */
export interface BatchMessage<M> {
  type: 'batch';
  msgs: M[];
}

/** Whether `msg` is a {@link BatchMessage}. */
export function isBatch<M>(msg: M | BatchMessage<M>): msg is BatchMessage<M> {
  return (msg as { type?: unknown }).type === 'batch';
}

/**
 * `post` queues; `postNow` sends what is queued and then `msg` at once, so that a value IPC
 * cannot carry throws to its caller; `flush` sends what is queued (before a disconnect).
 */
export interface Batcher<M> {
  post(msg: M): void;
  postNow(msg: M): void;
  flush(): void;
}

/**
 * Batches `send`: one message alone goes as it is, several as a {@link BatchMessage}. A batch
 * that cannot be sent (one message holds a value IPC cannot carry) is sent message by message,
 * and each that still fails goes to `failed`.
 */
export function batcher<M>(
  send: (msg: M | BatchMessage<M>) => void,
  failed: (msg: M, err: unknown) => void,
): Batcher<M> {
  let queue: M[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const one = (msg: M): void => {
    try {
      send(msg);
    } catch (err) {
      failed(msg, err);
    }
  };
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    const msgs = queue;
    queue = [];
    if (msgs.length === 1) one(msgs[0]!);
    else if (msgs.length > 1) {
      try {
        send({ type: 'batch', msgs });
      } catch {
        for (const msg of msgs) one(msg);
      }
    }
  };
  return {
    post(msg) {
      queue.push(msg);
      scheduled ??= setImmediate(flush);
    },
    postNow(msg) {
      flush();
      send(msg);
    },
    flush,
  };
}
