// The entry of a child-process isolate host: a LocalHost driven over IPC by a ChildHost.
import { toErrorData } from '@pyworkers/common';
import type { Bundle, Logger } from '@pyworkers/isolate';

import {
  BodyStreams,
  bodyBufferPool,
  IPC_STREAM_WINDOW_BYTES,
  IsolateLauncher,
  type IsolateRequest,
  isWebSocketMessage,
  type RpcResult,
  WebSockets,
  type WorkerEvent,
} from '@pyworkers/isolate';
import { hostBindings } from '../bindings/open-store.js';
import type { WorkerState } from '../bindings/wiring.js';
import { RouterError } from '../errors.js';
import { createEvictionPolicy } from '../eviction.js';
import { objectHostIndex } from '../objects/placement.js';
import { answerBody, openAnswerBody, withAnswerBody } from '../services/answer-bodies.js';
import { deliverCall, deliverStreamCall, isStreamCall } from '../services/deliver.js';
import { ServiceStreams } from '../services/response-streams.js';
import type { ForwardedCall } from '../services/types.js';
import { type BatchMessage, batcher, isBatch } from './batch.js';
import { type BodyChannel, bodyChannel, openBodySocket } from './body-channel.js';
import { LocalHost } from './local-host.js';
import { ELSEWHERE, type PeerCall, PeerClient, servePeers } from './peer-channel.js';
import type { FromHost, HostProcessConfig, ToHost } from './protocol.js';

// Sent once per event-loop turn (./batch.ts).
const out = batcher<FromHost>(
  (msg) => {
    if (process.connected) process.send?.(msg);
  },
  (msg, err) => {
    // The router waits for an answer to this id: give it one it can carry.
    const id = (msg as { id?: unknown }).id;
    if (typeof id === 'number' && msg.type !== 'log' && msg.type !== 'event')
      out.post({ type: 'failed', id, error: toErrorData(err) });
  },
);
// A forwarded call carries the worker's values: one IPC cannot carry rejects the call at once.
const send = (msg: FromHost): void => (msg.type === 'forward' ? out.postNow(msg) : out.post(msg));

const log =
  (level: 'debug' | 'info' | 'warn' | 'error') =>
  (obj: object, msg?: string): void =>
    send({ type: 'log', level, obj: obj as Record<string, unknown>, ...(msg ? { msg } : {}) });
const logger: Logger = {
  debug: log('debug'),
  info: log('info'),
  warn: log('warn'),
  error: log('error'),
};

// Request bodies from the router and response bodies to it, by fetch id, on the body channel
// (opened at init: the router names its fd).
let channel: BodyChannel | undefined;
const bodies = new BodyStreams((msg) => channel?.post(msg), false, IPC_STREAM_WINDOW_BYTES);
// Accepted WebSockets, relayed between the router and the isolate, by fetch id.
const sockets = new WebSockets((msg) => send(msg));
const bundles = new Map<string, Bundle>();
const secrets = new Map<string, Record<string, string>>();
const states = new Map<string, WorkerState>();
const bindings = hostBindings(logger);
// Bundles being decoded (prepared) by the launcher, so that `warm` can wait for them.
const preparing = new Map<string, Promise<void>>();
let host: LocalHost | undefined;
let launcher: IsolateLauncher | undefined;
let ready: Promise<LocalHost> | undefined;

// Calls on service bindings, waiting for the router's answer, by forward id.
const forwarded = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
let nextForward = 1;

/** A worker as this process knows it (the router sent its bundle, secrets and state). */
function hostWorker(name: string) {
  const bundle = bundles.get(name);
  return {
    name,
    bundle: async () => {
      if (!bundle) throw new Error(`the router sent no bundle for ${name}`);
      return bundle;
    },
    ...(secrets.has(name) ? { secrets: secrets.get(name)! } : {}),
    ...(states.has(name) ? { state: states.get(name)! } : {}),
  };
}

// Thrown before anything ran: the call goes to the router instead.
const NOT_HERE = new Error('not warm on this host');

/**
 * A service fetch that asks for a WebSocket upgrade: it goes through the router, which holds
 * the socket the target accepts until the caller's answer carries it to the client.
 */
function isUpgrade(call: ForwardedCall): boolean {
  if (call.method !== 'fetch') return false;
  const headers = (call.args[0] as { headers?: unknown } | null)?.headers;
  return (
    Array.isArray(headers) &&
    headers.some(
      (h) =>
        Array.isArray(h) &&
        String(h[0]).toLowerCase() === 'upgrade' &&
        String(h[1]).toLowerCase() === 'websocket',
    )
  );
}
// Response bodies of service fetches answered here, which this host's callers read from here
// (made at init: the ids carry this host's id, so reads of the router's go there).
let streams: ServiceStreams | undefined;

/**
 * A call whose target already has an isolate with room on this host runs here: no trip
 * through the router and back (two IPC hops each way). Anything else goes to the router,
 * which places it like the target's requests.
 */
async function forward(call: ForwardedCall): Promise<never> {
  const h = host;
  const local = streams;
  if (isStreamCall(call)) {
    // A body read from the table whose id it has: this host's, another host's (the body of a
    // stub fetch that ran there, on the peer channel), or else the router's.
    const [id] = call.args;
    if (local && typeof id === 'string' && local.owns(id))
      return (await deliverStreamCall(local, call)) as never;
    const peer = typeof id === 'string' ? streamHost(id) : undefined;
    if (peer !== undefined && peers && peer !== hostConfig?.id)
      return (await readOnPeer(peer, call, id as string)) as never;
    return viaRouter(call);
  }
  // A Durable Object whose id hashes to this host lives here: the router would send it back.
  const target = call.target;
  if (
    h &&
    local &&
    hostConfig &&
    target.kind === 'object' &&
    bundles.has(target.service) &&
    objectHostIndex(target.id, hostConfig.hosts ?? 1) === hostConfig.id
  ) {
    const done = await h.dispatchObject(
      hostWorker(target.service),
      {
        className: target.className,
        id: target.id,
        ...(target.name !== undefined ? { name: target.name } : {}),
      },
      { method: call.method, args: call.args },
    );
    if (done.kind === 'event')
      return (await openAnswerBody(
        local,
        done.result as RpcResult,
        call.from,
        stubLabel(call),
      )) as never;
  }
  if (peers && hostConfig && target.kind === 'object') {
    const value = await viaPeer(objectHostIndex(target.id, hostConfig.hosts ?? 1), call);
    if (value !== ELSEWHERE) return value as never;
  }
  if (
    h &&
    local &&
    call.target.kind === 'service' &&
    bundles.has(call.target.service) &&
    !isUpgrade(call)
  ) {
    const workers = new Map([[call.target.service, hostWorker(call.target.service)]]);
    const hosts = {
      dispatch: async (worker: ReturnType<typeof hostWorker>, request: IsolateRequest) => {
        if (!h.hasWarm(worker.name)) throw NOT_HERE;
        const result = await h.fetch(worker, request, { force: false });
        if (result.kind === 'refused') throw NOT_HERE;
        return result;
      },
      dispatchEvent: async (worker: ReturnType<typeof hostWorker>, event: WorkerEvent) => {
        if (!h.hasWarm(worker.name)) throw NOT_HERE;
        const result = await h.dispatch(worker, event, { force: false });
        if (result.kind === 'refused') throw NOT_HERE;
        return result.result;
      },
    };
    try {
      return (await deliverCall({ workers, hosts: hosts as never, streams: local }, call)) as never;
    } catch (err) {
      if (err !== NOT_HERE) throw err;
    }
  }
  return viaRouter(call);
}

// Calls to Durable Objects on other host processes, straight there (./peer-channel.ts).
let peers: PeerClient | undefined;

/** A call to an object on host `where`, on the peer channel; undefined when not taken there. */
async function viaPeer(where: number, call: ForwardedCall): Promise<unknown> {
  const target = call.target;
  if (!peers || target.kind !== 'object') return ELSEWHERE;
  try {
    return await peers.call(where, {
      worker: target.service,
      target: {
        className: target.className,
        id: target.id,
        ...(target.name !== undefined ? { name: target.name } : {}),
      },
      input: { method: call.method, args: call.args },
      from: call.from,
    });
  } catch (err) {
    if (err === ELSEWHERE) return ELSEWHERE;
    throw err;
  }
}

const viaRouter = (call: ForwardedCall): Promise<never> => {
  if (!process.connected)
    return Promise.reject(
      Object.assign(new Error('the router is gone'), { code: 'ERR_SERVICE_UNAVAILABLE' }),
    );
  const id = nextForward++;
  return new Promise<never>((resolve, reject) => {
    forwarded.set(id, { resolve, reject });
    send({ type: 'forward', id, call });
  });
};

let hostConfig: HostProcessConfig | undefined;

/** The host process whose stream table made body id `id` (`h<N>.<n>`), if one did. */
function streamHost(id: string): number | undefined {
  const m = /^h(\d+)\./.exec(id);
  return m ? Number(m[1]) : undefined;
}

const stubLabel = (call: { binding: string }): string => `${call.binding} stub.fetch()`;

/** A read or cancel of body `id`, which host process `peer`'s table holds. */
async function readOnPeer(peer: number, call: ForwardedCall, id: string): Promise<unknown> {
  const { method, from, binding } = call;
  try {
    return await peers!.call(peer, { body: { method, id, from, binding } });
  } catch (err) {
    if (err !== ELSEWHERE) throw err;
    // Its host is not listening any more (it was replaced): the body went with it.
    throw new RouterError(
      'ERR_SERVICE_STREAM_GONE',
      `the response body of a stub fetch (stream ${id}) is gone: its host process ${peer} is not reachable`,
    );
  }
}

/**
 * A peer's call: an event of an object that lives here (a body its fetch streams stays in this
 * host's table, read from here by the caller), or a read or cancel of such a body.
 */
async function onPeerCall(local: LocalHost, call: PeerCall): Promise<unknown> {
  const table = streams!;
  if ('body' in call) {
    const { method, id, from, binding } = call.body;
    const target = { kind: 'service', service: '' } as const;
    return deliverStreamCall(table, { from, binding, target, method, args: [id] });
  }
  if (!bundles.has(call.worker)) throw ELSEWHERE;
  const done = await local.dispatchObject(hostWorker(call.worker), call.target, call.input);
  if (done.kind !== 'event') throw ELSEWHERE;
  const result = done.result as RpcResult;
  return openAnswerBody(table, result, call.from, `${call.worker} stub.fetch()`);
}

async function init(config: HostProcessConfig): Promise<LocalHost> {
  hostConfig = config;
  streams = new ServiceStreams(`h${config.id}.`, config.serviceStreamIdleMs);
  if (config.bodyFd === undefined) throw new Error('the router gave no body channel (bodyFd)');
  // Read into one reused buffer and copied into pooled ones, which go to the isolate thread
  // and come back once read (isolate: buffer-pool.ts): no allocation per chunk.
  const socket = openBodySocket(config.bodyFd, (data) => channel?.read(data));
  socket.unref();
  socket.on('drain', () => bodies.drained());
  channel = bodyChannel(
    socket,
    (msg) => bodies.onMessage(msg),
    (err) => {
      // Nothing can stream any more: exit; the router replaces this process.
      logger.error({ err: err.message }, 'the body channel from the router broke');
      out.flush();
      setImmediate(() => process.exit(1));
    },
    bodyBufferPool,
  );
  // This host's parked pool: it starts booting now, while the router sends the bundles.
  launcher = new IsolateLauncher({
    poolSize: config.poolSize ?? 1,
    ...(config.maxPoolSize !== undefined ? { maxPoolSize: config.maxPoolSize } : {}),
    logger,
  });
  void launcher.warm();
  host = new LocalHost({
    id: config.id,
    kind: 'process',
    launcher,
    logger,
    policy: createEvictionPolicy(config.eviction),
    budgetBytes: config.budgetBytes,
    ...(config.maxIsolates !== undefined ? { maxIsolates: config.maxIsolates } : {}),
    concurrency: config.concurrency,
    ...(config.spreadAt !== undefined ? { spreadAt: config.spreadAt } : {}),
    ...(config.spreadTo !== undefined ? { spreadTo: config.spreadTo } : {}),
    maxInflight: config.maxInflight,
    ...(config.lanes
      ? {
          lanes: config.lanes,
          laneLost: (lane: number, err: unknown) =>
            send({ type: 'lane-lost', lane, error: toErrorData(err) }),
        }
      : {}),
    bindings,
    forward,
    events: {
      coldStart: (worker) => send({ type: 'event', event: 'coldStart', worker }),
      eviction: (worker) => send({ type: 'event', event: 'eviction', worker }),
      lost: (worker) => send({ type: 'event', event: 'lost', worker }),
    },
    ...(config.objectIdleMs ? { objectIdleMs: config.objectIdleMs } : {}),
    onAlarm: (worker, className, id, scheduledTime) =>
      send({ type: 'alarm', worker, className, id, scheduledTime }),
  });
  const paths = config.peers;
  if (paths && paths.length > 1 && paths[config.id]) {
    const local = host;
    // A peer's call to an object that lives here; one this process cannot run yet (its
    // bundle has not come) goes back, to be sent through the router.
    servePeers(
      paths[config.id]!,
      (call) => onPeerCall(local, call),
      (err) =>
        logger.warn(
          { host: config.id, err: err.message },
          'peer socket not served; calls to this host go through the router',
        ),
    );
    peers = new PeerClient(paths);
  }
  return host;
}

async function onMessage(msg: ToHost): Promise<void> {
  if (isWebSocketMessage(msg)) {
    sockets.onMessage(msg);
    return;
  }
  if (msg.type === 'forward-result') {
    const waiting = forwarded.get(msg.id);
    forwarded.delete(msg.id);
    if (msg.ok) waiting?.resolve(msg.value as never);
    else waiting?.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
    return;
  }
  if (msg.type === 'init') {
    ready = init(msg.config);
    return;
  }
  if (msg.type === 'bundle') {
    bundles.set(msg.worker, msg.bundle);
    if (msg.secrets) secrets.set(msg.worker, msg.secrets);
    else secrets.delete(msg.worker);
    if (msg.state) states.set(msg.worker, msg.state);
    else states.delete(msg.worker);
    // Decoded once here, at load; a bad bundle fails its requests with the same error.
    const prepared = launcher!.prepare(msg.bundle).catch((err: Error) => {
      logger.warn({ worker: msg.worker, err: err.message }, 'bundle cannot be prepared');
    });
    preparing.set(msg.worker, prepared);
    return;
  }
  const h = await ready!;
  if (msg.type === 'stats') {
    const stats = await h.stats();
    send({ type: 'stats', id: msg.id, stats: { ...stats, serviceStreams: streams?.size ?? 0 } });
    return;
  }
  if (msg.type === 'ws-attach') {
    try {
      const end = await h.attachSocket(msg.ref);
      WebSockets.join(end, sockets.peer(msg.id));
      send({ type: 'attached', id: msg.id });
    } catch (err) {
      send({ type: 'failed', id: msg.id, error: toErrorData(err) });
    }
    return;
  }
  if (msg.type === 'lane-kill') {
    h.killLane(msg.lane, msg.message);
    return;
  }
  if (msg.type === 'warm') {
    await Promise.all(preparing.values());
    await launcher!.warm();
    await launcher!.anticipate(msg.firstStarts ?? 0);
    send({ type: 'warm', id: msg.id });
    return;
  }
  const worker = hostWorker(msg.worker);
  // Registered before any await, so that no chunk arrives for a stream not yet known.
  const request =
    msg.type === 'fetch' && msg.streamed
      ? { ...msg.request, body: bodies.receive(msg.id, true) }
      : msg.type === 'fetch'
        ? msg.request
        : undefined;
  try {
    const result =
      msg.type === 'object'
        ? await h.dispatchObject(worker, msg.target, msg.input)
        : request
          ? await h.fetch(worker, request, { force: msg.force })
          : await h.dispatch(worker, (msg as { event: WorkerEvent }).event, { force: msg.force });
    if (result.kind === 'response' && result.response.webSocketRef) {
      const { headers, webSocketRef } = result.response;
      send({
        type: 'ws-accept',
        id: msg.id,
        headers,
        coldStart: result.coldStart,
        attach: webSocketRef,
      });
      return;
    }
    if (result.kind === 'response' && result.response.webSocket) {
      const { headers, webSocket } = result.response;
      send({ type: 'ws-accept', id: msg.id, headers, coldStart: result.coldStart });
      WebSockets.join(webSocket, sockets.peer(msg.id));
      return;
    }
    // An object's or entrypoint's fetch whose body streams: it follows on the body channel.
    const answered = result.kind === 'event' ? answerBody(result.result) : undefined;
    if (answered && result.kind === 'event') {
      const head = { ...result, result: withAnswerBody(result.result, null) };
      send({ type: 'result', id: msg.id, result: head, streamed: true });
      await bodies.send(msg.id, answered);
      return;
    }
    if (result.kind === 'response' && !(result.response.body instanceof Uint8Array)) {
      const { status, headers, body } = result.response;
      send({ type: 'response-head', id: msg.id, status, headers, coldStart: result.coldStart });
      await bodies.send(msg.id, body);
      return;
    }
    send({ type: 'result', id: msg.id, result });
  } catch (err) {
    send({ type: 'failed', id: msg.id, error: toErrorData(err) });
  } finally {
    // A body nobody read (a refused request, a handler that ignored it): stop its sender.
    bodies.discard(msg.id);
  }
}

process.on('message', (msg: ToHost | BatchMessage<ToHost>) => {
  if (!isBatch(msg)) void onMessage(msg);
  else for (const m of msg.msgs) void onMessage(m);
});
// The router is gone (it crashed or closed us): nothing else will ever talk to this process.
process.on('disconnect', () => {
  for (const waiting of forwarded.values())
    waiting.reject(
      Object.assign(new Error('the router is gone'), { code: 'ERR_SERVICE_UNAVAILABLE' }),
    );
  forwarded.clear();
  streams?.close();
  void (host?.close() ?? Promise.resolve())
    .then(() => bindings.close())
    .finally(() => process.exit(0));
});
