// RPC answers that are a Response whose body streams: a Durable Object's `fetch` (through a
// stub) and a service entrypoint's `fetch` come back from the isolate as an RPC result whose
// tagged Response has a BodyStream for its `body` (isolate: event-bridge.ts). Such a body
// never crosses a process as a value: where the answer is handed to its caller, it goes into
// the stream table there (./response-streams.ts) and the caller pulls it with `__body_read__`,
// as a plain service fetch's body; between a host process and the router it goes on the body
// channel (host/child-host.ts), like a response body.
import type { BodyStream, RpcResult } from '@pyworkers/isolate';
import type { ServiceStreams } from './response-streams.js';

/** The tag of a Request or Response crossing as an RPC value (`workers._rpc.TAG`). */
const RPC_TAG = '__rpc__';

interface TaggedResponse {
  [RPC_TAG]: 'Response';
  body: unknown;
}

const isStream = (body: unknown): body is BodyStream =>
  typeof body === 'object' && body !== null && Symbol.asyncIterator in body;

/** The tagged Response of `result` whose body is a stream, if it is one. */
function streamingHead(result: unknown): TaggedResponse | undefined {
  const r = result as { outcome?: unknown; value?: Partial<TaggedResponse> | null } | null;
  const head = r?.outcome === 'ok' ? r.value : undefined;
  if (!head || typeof head !== 'object' || head[RPC_TAG] !== 'Response') return undefined;
  const body = head.body;
  return isStream(body) ? (head as TaggedResponse) : undefined;
}

/** The streamed body of an RPC answer (its tagged Response's), if it has one. */
export function answerBody(result: unknown): BodyStream | undefined {
  return streamingHead(result)?.body as BodyStream | undefined;
}

/** `result` with its streamed body replaced by `body` (same head). */
export function withAnswerBody<R>(result: R, body: unknown): R {
  const r = result as { value: object };
  return { ...r, value: { ...r.value, body } } as R;
}

/**
 * `result` as its caller `from` receives it: a streamed body is opened in `streams` (what is
 * ready goes inline, the rest is read with `__body_read__`: `bodyStream` names it there); any
 * other answer as it is.
 */
export async function openAnswerBody(
  streams: ServiceStreams,
  result: RpcResult,
  from: string,
  label: string,
): Promise<RpcResult> {
  const head = streamingHead(result);
  if (!head) return result;
  const { body, id } = await streams.open(head.body as BodyStream, from, label);
  return {
    type: 'rpc',
    outcome: 'ok',
    value: {
      ...head,
      body: body.byteLength > 0 ? body : null,
      ...(id !== undefined ? { bodyStream: id } : {}),
    },
  };
}
