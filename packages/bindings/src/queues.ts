import { deserialize, serialize } from 'node:v8';
import type { SqlDatabase, SqlValue } from './engine/types.js';
import { BindingError } from './errors.js';
import { describe, numberOpt, optionsArg, toBytes } from './internal/args.js';
import { newId } from './internal/ids.js';
import { type Logger, silentLogger } from './logger.js';

/** Cloudflare's Queues limits. */
export const QUEUE_LIMITS = {
  maxMessageBytes: 128_000,
  maxBatchMessages: 100,
  maxBatchBytes: 256_000,
  maxDelaySeconds: 43_200,
  defaultMaxRetries: 3,
} as const;

/** How a message body is encoded: Cloudflare's `contentType` values. */
export type QueueContentType = 'json' | 'text' | 'bytes' | 'v8';

/** A message as the consumer loop gets it (leased until settled or the lease runs out). */
export interface QueueMessage {
  id: string;
  timestamp: Date;
  body: unknown;
  /** Deliveries so far, this one included (1 on the first delivery). */
  attempts: number;
  contentType: QueueContentType;
}

/** What the consumer did with a batch: acked ids are deleted, retried ones come back later. */
export interface QueueSettlement {
  acked?: readonly string[];
  retried?: readonly { id: string; delaySeconds?: number }[];
}

/** The consumer's settings (wrangler `[[queues.consumers]]`). */
export interface QueueConsumerSettings {
  maxRetries?: number;
  deadLetterQueue?: string;
  /** Default delay of a retry, seconds. */
  retryDelay?: number;
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS _messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    lease_until INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0
  )`,
  'CREATE INDEX IF NOT EXISTS _messages_ready ON _messages (queue, visible_at, seq)',
];

interface Row {
  seq: number;
  id: string;
  body: Uint8Array;
  content_type: QueueContentType;
  timestamp: number;
  attempts: number;
}

/** Encodes a body as `contentType` says; a value that does not fit is the caller's error. */
function encode(where: string, body: unknown, contentType: QueueContentType): Uint8Array {
  switch (contentType) {
    case 'json': {
      const text = JSON.stringify(body);
      if (text === undefined)
        throw new BindingError('ERR_QUEUE_MESSAGE', `${where}: the body is not JSON-serialisable`);
      return new TextEncoder().encode(text);
    }
    case 'text':
      if (typeof body !== 'string') {
        throw new BindingError(
          'ERR_QUEUE_MESSAGE',
          `${where}: contentType "text" needs a string body, got ${describe(body)}`,
        );
      }
      return new TextEncoder().encode(body);
    case 'bytes': {
      const bytes = toBytes(body);
      if (bytes === null || typeof body === 'string') {
        throw new BindingError(
          'ERR_QUEUE_MESSAGE',
          `${where}: contentType "bytes" needs bytes, got ${describe(body)}`,
        );
      }
      return bytes;
    }
    case 'v8':
      return serialize(body);
  }
}

function decode(row: Row): unknown {
  switch (row.content_type) {
    case 'json':
      return JSON.parse(new TextDecoder().decode(row.body));
    case 'text':
      return new TextDecoder().decode(row.body);
    case 'bytes':
      return row.body;
    case 'v8':
      return deserialize(row.body);
  }
}

/**
 * Every queue of a project in one SQLite database, so moving a message to its dead-letter
 * queue is one statement. A message stays stored until it is acknowledged.
 */
export class QueueStore {
  private constructor(
    readonly db: SqlDatabase,
    readonly now: () => number,
    readonly logger: Logger,
  ) {}

  static async open(
    db: SqlDatabase,
    now: () => number = Date.now,
    logger: Logger = silentLogger,
  ): Promise<QueueStore> {
    for (const sql of SCHEMA) await db.exec(sql);
    return new QueueStore(db, now, logger);
  }

  #prepare(
    where: string,
    body: unknown,
    options: unknown,
    defaultDelay: number,
  ): { params: SqlValue[]; size: number } {
    const opts = optionsArg(where, options);
    const contentType = (opts.contentType ?? 'json') as string;
    if (!['json', 'text', 'bytes', 'v8'].includes(contentType)) {
      throw new BindingError(
        'ERR_QUEUE_MESSAGE',
        `${where}: contentType must be "json", "text", "bytes" or "v8", got ${JSON.stringify(contentType)}`,
      );
    }
    const delay = numberOpt(where, 'delaySeconds', opts.delaySeconds) ?? defaultDelay;
    if (!Number.isInteger(delay) || delay < 0 || delay > QUEUE_LIMITS.maxDelaySeconds) {
      throw new BindingError(
        'ERR_QUEUE_MESSAGE',
        `${where}: delaySeconds must be a whole number from 0 to ${QUEUE_LIMITS.maxDelaySeconds}, got ${delay}`,
      );
    }
    const bytes = encode(where, body, contentType as QueueContentType);
    if (bytes.byteLength > QUEUE_LIMITS.maxMessageBytes) {
      throw new BindingError(
        'ERR_QUEUE_MESSAGE',
        `${where}: message size ${bytes.byteLength} bytes exceeds limit of ${QUEUE_LIMITS.maxMessageBytes}`,
      );
    }
    const now = this.now();
    return {
      params: [newId(), '', bytes, contentType, now, now + delay * 1000],
      size: bytes.byteLength,
    };
  }

  /** Stores one message (the producer's `send`). Durable once it resolves. */
  async send(
    where: string,
    queue: string,
    body: unknown,
    options?: unknown,
    defaultDelay = 0,
  ): Promise<null> {
    const { params } = this.#prepare(where, body, options, defaultDelay);
    params[1] = queue;
    await this.db.query({
      sql: 'INSERT INTO _messages (id, queue, body, content_type, timestamp, visible_at) VALUES (?, ?, ?, ?, ?, ?)',
      params,
    });
    return null;
  }

  /** Stores a batch atomically (the producer's `sendBatch`). */
  async sendBatch(
    where: string,
    queue: string,
    messages: unknown,
    options?: unknown,
    defaultDelay = 0,
  ): Promise<null> {
    if (!Array.isArray(messages)) {
      throw new BindingError(
        'ERR_QUEUE_BATCH',
        `${where}: takes a list of messages, got ${describe(messages)}`,
      );
    }
    if (messages.length > QUEUE_LIMITS.maxBatchMessages) {
      throw new BindingError(
        'ERR_QUEUE_BATCH',
        `${where}: batch message count of ${messages.length} exceeds limit of ${QUEUE_LIMITS.maxBatchMessages}`,
      );
    }
    const batchDelay =
      numberOpt(where, 'delaySeconds', optionsArg(where, options).delaySeconds) ?? defaultDelay;
    let total = 0;
    const statements = messages.map((m, i) => {
      const o = optionsArg(`${where} message ${i + 1}`, m);
      const { params, size } = this.#prepare(`${where} message ${i + 1}`, o.body, o, batchDelay);
      params[1] = queue;
      total += size;
      return {
        sql: 'INSERT INTO _messages (id, queue, body, content_type, timestamp, visible_at) VALUES (?, ?, ?, ?, ?, ?)',
        params,
      };
    });
    if (total > QUEUE_LIMITS.maxBatchBytes) {
      throw new BindingError(
        'ERR_QUEUE_BATCH',
        `${where}: batch size of ${total} bytes exceeds limit of ${QUEUE_LIMITS.maxBatchBytes}`,
      );
    }
    if (statements.length > 0) await this.db.batch(statements);
    return null;
  }

  /**
   * Leases up to `max` ready messages for delivery. A leased message is invisible until it is
   * settled or `visibilityMs` passes (a consumer that died without settling gets it back).
   */
  async pull(
    queue: string,
    options: { max?: number; visibilityMs?: number } = {},
  ): Promise<QueueMessage[]> {
    const now = this.now();
    const max = Math.max(1, Math.min(options.max ?? 10, QUEUE_LIMITS.maxBatchMessages));
    const { rows } = await this.db.query<Row>({
      sql: `UPDATE _messages SET lease_until = ?, attempts = attempts + 1
            WHERE seq IN (SELECT seq FROM _messages WHERE queue = ? AND visible_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                          ORDER BY visible_at, seq LIMIT ?)
            RETURNING seq, id, body, content_type, timestamp, attempts`,
      params: [now + (options.visibilityMs ?? 30_000), queue, now, now, max],
    });
    return rows
      .sort((a, b) => a.seq - b.seq)
      .map((r) => ({
        id: r.id,
        timestamp: new Date(r.timestamp),
        body: decode(r),
        attempts: r.attempts,
        contentType: r.content_type,
      }));
  }

  /**
   * Settles a delivered batch: acked messages are deleted; retried ones come back after their
   * delay, or, past `maxRetries` deliveries beyond the first, move to the dead-letter queue
   * (or are dropped with a warning when there is none).
   */
  async settle(
    queue: string,
    settlement: QueueSettlement,
    settings: QueueConsumerSettings = {},
  ): Promise<{ deadLettered: string[]; dropped: string[] }> {
    const maxRetries = settings.maxRetries ?? QUEUE_LIMITS.defaultMaxRetries;
    const now = this.now();
    const statements: { sql: string; params: SqlValue[] }[] = [];
    for (const id of settlement.acked ?? [])
      statements.push({
        sql: 'DELETE FROM _messages WHERE id = ? AND queue = ?',
        params: [id, queue],
      });
    const retried = settlement.retried ?? [];
    const deadLettered: string[] = [];
    const dropped: string[] = [];
    if (retried.length > 0) {
      const ids = retried.map((r) => r.id);
      const { rows } = await this.db.query<{ id: string; attempts: number }>({
        sql: `SELECT id, attempts FROM _messages WHERE queue = ? AND id IN (${ids.map(() => '?').join(',')})`,
        params: [queue, ...ids],
      });
      const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
      for (const r of retried) {
        const n = attempts.get(r.id);
        if (n === undefined) continue;
        if (n > maxRetries) {
          if (settings.deadLetterQueue) {
            deadLettered.push(r.id);
            statements.push({
              sql: 'UPDATE _messages SET queue = ?, attempts = 0, lease_until = NULL, visible_at = ? WHERE id = ?',
              params: [settings.deadLetterQueue, now, r.id],
            });
          } else {
            dropped.push(r.id);
            statements.push({ sql: 'DELETE FROM _messages WHERE id = ?', params: [r.id] });
          }
        } else {
          const delay = r.delaySeconds ?? settings.retryDelay ?? 0;
          statements.push({
            sql: 'UPDATE _messages SET lease_until = NULL, visible_at = ? WHERE id = ?',
            params: [now + delay * 1000, r.id],
          });
        }
      }
    }
    if (statements.length > 0) await this.db.batch(statements);
    if (dropped.length > 0) {
      this.logger.warn(
        { queue, messages: dropped, maxRetries },
        'queue messages dropped after their last retry (no dead_letter_queue)',
      );
    }
    return { deadLettered, dropped };
  }

  /** Messages stored for `queue` (ready, delayed or leased). */
  async depth(queue: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>({
      sql: 'SELECT count(*) AS n FROM _messages WHERE queue = ?',
      params: [queue],
    });
    return rows[0]?.n ?? 0;
  }

  /** When the next message of `queue` becomes deliverable, or null when it has none. */
  async nextDelivery(queue: string): Promise<Date | null> {
    const { rows } = await this.db.query<{ t: number | null }>({
      sql: 'SELECT min(max(visible_at, coalesce(lease_until, 0))) AS t FROM _messages WHERE queue = ?',
      params: [queue],
    });
    const t = rows[0]?.t;
    return t === null || t === undefined ? null : new Date(t);
  }
}
