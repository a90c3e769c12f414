// The router's side of worker-to-worker calls: a forwarded call reaches the target worker
// as a fetch (a service binding's `fetch`) or an `rpc` event, placed like its requests.
import {
  type IsolateRequest,
  isBodyStream,
  isIsolateError,
  type RpcResult,
} from '@pyworkers/isolate';
import { RouterError } from '../errors.js';
import type { HostFleet } from '../fleet.js';
import type { HostWorker } from '../host/types.js';
import { openAnswerBody } from './answer-bodies.js';
import {
  type ServiceStreams,
  STREAM_CANCEL_METHOD,
  STREAM_READ_METHOD,
} from './response-streams.js';
import type { ServiceSockets } from './service-sockets.js';
import type { ForwardedCall } from './types.js';

/** The tag of a Request or Response crossing as an RPC value (`workers._rpc.TAG`). */
export const RPC_TAG = '__rpc__';

interface TaggedRequest {
  [RPC_TAG]: 'Request';
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

/** What {@link deliverCall} needs of the router. */
export interface DeliveryContext {
  workers: ReadonlyMap<string, HostWorker>;
  hosts: Pick<HostFleet, 'dispatch' | 'dispatchEvent' | 'dispatchObject'>;
  /** Where streamed response bodies wait for their caller to read them. */
  streams: ServiceStreams;
  /**
   * Where WebSockets a target accepted wait for the caller's answer to carry them (the
   * router's; a host process running a call itself sends upgrades to the router instead).
   */
  sockets?: ServiceSockets;
}

const notServed = (call: ForwardedCall, service: string, known: string[]): Error =>
  new RouterError(
    'ERR_SERVICE_NOT_SERVED',
    `service binding '${call.binding}' of ${call.from} names worker "${service}", which this server does not serve (it serves: ${known.join(', ')})`,
  );

function isTaggedRequest(value: unknown): value is TaggedRequest {
  const v = value as Partial<TaggedRequest> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v[RPC_TAG] === 'Request' &&
    typeof v.url === 'string' &&
    typeof v.method === 'string'
  );
}

/** A Python exception in the target's fetch handler (`ValueError: boom`) as an RPC exception. */
function handlerException(err: unknown): RpcResult | undefined {
  if (!isIsolateError(err) || err.code !== 'ERR_ISOLATE_HANDLER') return undefined;
  const match = /^([A-Za-z_][\w.]*): ([\s\S]*)$/.exec(err.message);
  return {
    type: 'rpc',
    outcome: 'exception',
    error: match
      ? { name: match[1]!.split('.').pop()!, message: match[2]! }
      : { name: 'Error', message: err.message },
  };
}

/** The 101 answer of a service fetch, its socket named by `ref` (held where the ref says). */
function upgraded(headers: [string, string][], ref: string): RpcResult {
  return {
    type: 'rpc',
    outcome: 'ok',
    value: {
      [RPC_TAG]: 'Response',
      status: 101,
      statusText: '',
      headers,
      body: null,
      webSocket: ref,
    },
  };
}

async function serviceFetch(
  ctx: DeliveryContext,
  worker: HostWorker,
  call: ForwardedCall,
): Promise<RpcResult> {
  const [given] = call.args;
  if (!isTaggedRequest(given))
    throw Object.assign(
      new Error(`${call.binding}.fetch() takes a request (a URL or workers.Request)`),
      { code: 'ERR_BINDING_ARGS' },
    );
  const request: IsolateRequest = {
    method: given.method,
    url: given.url,
    headers: given.headers,
    body: given.body ?? new Uint8Array(0),
  };
  let answer: Awaited<ReturnType<HostFleet['dispatch']>>;
  try {
    answer = await ctx.hosts.dispatch(worker, request);
  } catch (err) {
    const raised = handlerException(err);
    if (raised) return raised;
    throw err;
  }
  const { response } = answer;
  // A Durable Object's socket: the ref travels on, to whoever answers the client with it.
  if (response.webSocketRef) return upgraded(response.headers, response.webSocketRef);
  if (response.webSocket) {
    if (!ctx.sockets) {
      response.webSocket.close(1011, 'this host cannot hand a WebSocket on');
      throw Object.assign(
        new Error(
          `${call.binding}.fetch(): ${worker.name} accepted a WebSocket where no router holds it`,
        ),
        { code: 'ERR_SERVICE_WEBSOCKET' },
      );
    }
    // The target accepted the upgrade: the router holds its socket until the caller's 101
    // answer (this value, returned from its fetch) carries the ref to the client.
    return upgraded(response.headers, ctx.sockets.hold(response.webSocket));
  }
  // A streamed body stays a stream: what is ready now goes with the answer, the rest waits
  // for the caller to read it (./response-streams.ts). A body that ended by then goes whole.
  const { body, id } = isBodyStream(response.body)
    ? await ctx.streams.open(response.body, call.from, `${call.binding}.fetch()`)
    : { body: response.body, id: undefined };
  return {
    type: 'rpc',
    outcome: 'ok',
    value: {
      [RPC_TAG]: 'Response',
      status: response.status,
      statusText: '',
      headers: response.headers,
      body: body.byteLength > 0 ? body : null,
      ...(id !== undefined ? { bodyStream: id } : {}),
    },
  };
}

/**
 * Whether `call` reads or cancels a streamed response body rather than calling the target (on
 * a service binding, or a Durable Object binding for a stub's fetch: names starting with `_`
 * are never RPC methods).
 */
export function isStreamCall(call: ForwardedCall): boolean {
  return call.method === STREAM_READ_METHOD || call.method === STREAM_CANCEL_METHOD;
}

/** A read (the next chunks, or null at the end) or a cancel of a streamed response body. */
export async function deliverStreamCall(
  streams: ServiceStreams,
  call: ForwardedCall,
): Promise<RpcResult> {
  const [id] = call.args;
  if (typeof id !== 'string')
    throw Object.assign(new Error(`${call.binding}.${call.method}() takes a stream id`), {
      code: 'ERR_BINDING_ARGS',
    });
  if (call.method === STREAM_CANCEL_METHOD) {
    streams.cancel(id, call.from);
    return { type: 'rpc', outcome: 'ok', value: null };
  }
  return { type: 'rpc', outcome: 'ok', value: await streams.read(id, call.from) };
}

/**
 * Runs a forwarded call on its target worker: `fetch` on a binding without an entrypoint is
 * a plain request to its fetch handler; anything else an `rpc` event for its entrypoint class.
 */
export async function deliverCall(ctx: DeliveryContext, call: ForwardedCall): Promise<RpcResult> {
  const { target } = call;
  if (isStreamCall(call)) return deliverStreamCall(ctx.streams, call);
  const worker = ctx.workers.get(target.service);
  if (!worker) throw notServed(call, target.service, [...ctx.workers.keys()]);
  if (target.kind === 'object') {
    // fetch included: the object's Python fetch gets the tagged request as it is.
    const result = await ctx.hosts.dispatchObject(
      worker,
      {
        className: target.className,
        id: target.id,
        ...(target.name !== undefined ? { name: target.name } : {}),
      },
      { method: call.method, args: call.args },
    );
    return openAnswerBody(ctx.streams, result, call.from, `${call.binding} stub.fetch()`);
  }
  if (call.method === 'fetch' && !target.entrypoint) return serviceFetch(ctx, worker, call);
  const result = await ctx.hosts.dispatchEvent(worker, {
    type: 'rpc',
    ...(target.entrypoint ? { entrypoint: target.entrypoint } : {}),
    method: call.method,
    args: call.args,
  });
  // An entrypoint's fetch whose body streams: read as a plain service fetch's is.
  return openAnswerBody(ctx.streams, result, call.from, `${call.binding}.${call.method}()`);
}
