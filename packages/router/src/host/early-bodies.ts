import {
  type BodyMessage,
  type BodyStream,
  type BodyStreams,
  IPC_STREAM_WINDOW_BYTES,
} from '@pyworkers/isolate';

/**
 * Response-body messages of a host process that arrived (on the body channel) before their
 * `response-head` (on IPC), by fetch id: at most one credit window each, handed on once the
 * head is in.
 */
export class EarlyBodies {
  private readonly held = new Map<number, { msgs: BodyMessage[]; bytes: number }>();

  /** Holds `msg` until its head is in; false: its fetch is past its credit window. */
  hold(msg: Extract<BodyMessage, { type: 'body-chunk' | 'body-end' }>): boolean {
    let early = this.held.get(msg.id);
    if (!early) {
      early = { msgs: [], bytes: 0 };
      this.held.set(msg.id, early);
    }
    early.msgs.push(msg);
    if (msg.type === 'body-chunk') early.bytes += msg.chunk.byteLength;
    // A sender keeps to its credit window: a host past it is broken (or hostile).
    return early.bytes <= IPC_STREAM_WINDOW_BYTES;
  }

  /** The body of fetch `id` from `bodies`, handed what arrived for it before its head. */
  receive(bodies: BodyStreams, id: number): BodyStream {
    const body = bodies.receive(id);
    const early = this.held.get(id);
    this.held.delete(id);
    for (const m of early?.msgs ?? []) bodies.onMessage(m);
    return body;
  }

  /** Fetch `id` is over without a body here: what it sent early is dropped. */
  delete(id: number): void {
    this.held.delete(id);
  }

  clear(): void {
    this.held.clear();
  }
}
