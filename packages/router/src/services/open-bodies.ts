// The streamed response bodies one isolate has open (./response-streams.ts keeps them where
// its service fetches were answered): when the isolate goes away (a crash, a limit, eviction,
// the host closing) they are cancelled at once, rather than when the idle timeout finds them,
// so their targets see the disconnect and their table entries go.
import type { HostCall, HostCallHandler } from '@pyworkers/isolate';
import { RPC_TAG } from './deliver.js';
import { STUB_METHOD } from './host-calls.js';
import { STREAM_CANCEL_METHOD, STREAM_READ_METHOD } from './response-streams.js';

/** Ids of the bodies an isolate's service fetches left open, with the binding each is read on. */
export class OpenBodies {
  private readonly open = new Map<string, string>();
  private handler: HostCallHandler | undefined;
  private gone = false;

  /** Bodies open now. */
  get size(): number {
    return this.open.size;
  }

  /**
   * `handler`, noting the bodies its service fetches answer with and forgetting those read to
   * their end, cancelled or failed. One handler per {@link OpenBodies}.
   */
  wrap(handler: HostCallHandler): HostCallHandler {
    this.handler = handler;
    return (call) => {
      const answer = handler(call);
      // A fetch on a service binding, or a stub's call (its fetch) on a Durable Object binding.
      if (call.method === 'fetch' || call.method === STUB_METHOD)
        return answer.then((value) => this.fetched(call, value));
      if (call.method === STREAM_READ_METHOD)
        return answer.then(
          (value) => {
            if ((value as { value?: unknown } | null)?.value === null) this.forget(call);
            return value;
          },
          (err: unknown) => {
            this.forget(call);
            throw err;
          },
        );
      if (call.method === STREAM_CANCEL_METHOD) this.forget(call);
      return answer;
    };
  }

  /** The isolate is gone: cancels what it left open (with a host call, as it would have). */
  cancelAll(): void {
    this.gone = true;
    for (const [id, binding] of this.open) this.cancel(id, binding);
    this.open.clear();
  }

  private fetched(call: HostCall, value: unknown): unknown {
    const tagged = (value as { value?: { [RPC_TAG]?: unknown; bodyStream?: unknown } } | null)
      ?.value;
    const id = tagged?.[RPC_TAG] === 'Response' ? tagged.bodyStream : undefined;
    if (typeof id !== 'string') return value;
    // Answered after the isolate went: nobody will read it.
    if (this.gone) this.cancel(id, call.binding);
    else this.open.set(id, call.binding);
    return value;
  }

  private cancel(id: string, binding: string): void {
    this.handler?.({ binding, method: STREAM_CANCEL_METHOD, args: [id] }).catch(() => {});
  }

  private forget(call: HostCall): void {
    const [id] = call.args;
    if (typeof id === 'string') this.open.delete(id);
  }
}
