// Calls from one worker to another (service bindings, later Durable Object stubs): a host
// call that @pyworkers/bindings does not answer. The host hands it to the router, which
// delivers it to the target worker's isolates and hands back what they answered.
import type { RpcResult } from '@pyworkers/isolate';

/** Where a forwarded call goes. */
export type CallTarget =
  | {
      kind: 'service';
      /** The target worker's name, as the router serves it. */
      service: string;
      /** A class of its main module (default `Default`). */
      entrypoint?: string;
    }
  | {
      /** One Durable Object: the router places it by its id (one live instance per id). */
      kind: 'object';
      /** The worker that defines the class. */
      service: string;
      className: string;
      /** 64 hex digits (checked against the namespace where it runs). */
      id: string;
      /** The name `idFromName` made the id from. */
      name?: string;
    };

/** A host call on a `service` binding, as the host forwards it to the router. */
export interface ForwardedCall {
  /** The calling worker. */
  from: string;
  /** The binding's name in the caller's env (for messages). */
  binding: string;
  target: CallTarget;
  /** `fetch` (args: one tagged Request), or the method to call over RPC. */
  method: string;
  /** Encoded by `workers._rpc.to_rpc` in the caller. */
  args: unknown[];
}

/**
 * Delivers a forwarded call. Resolves with the target's {@link RpcResult} (a fetch: its
 * response as a tagged `Response` value); rejects with `{ code, message }` when it could not
 * run there (no such worker, a crash, a timeout).
 */
export type ForwardCall = (call: ForwardedCall) => Promise<RpcResult>;
