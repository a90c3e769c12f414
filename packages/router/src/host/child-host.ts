import type { ChildProcess } from 'node:child_process';
import { type ErrorData, fromErrorData } from '@pyworkers/common';
import {
  type BodyMessage,
  BodyStreams,
  IPC_STREAM_WINDOW_BYTES,
  type IsolateRequest,
  isWebSocketMessage,
  type Logger,
  type WebSocketPeer,
  WebSockets,
  type WorkerEvent,
} from '@pyworkers/isolate';
import { RouterError } from '../errors.js';
import type { ObjectEventInput, ObjectTarget } from '../objects/object-host.js';
import { withAnswerBody } from '../services/answer-bodies.js';
import type { ForwardCall } from '../services/types.js';
import { type Batcher, type BatchMessage, batcher, isBatch } from './batch.js';
import { BODY_FD, type BodyChannel, bodyChannel } from './body-channel.js';
import { deliverForwarded } from './child-forward.js';
import { lanesFor, onLane } from './child-lanes.js';
import { spawnHostProcess } from './child-spawn.js';
import { EarlyBodies } from './early-bodies.js';
import type { LaneServer } from './lanes.js';
import type { FromHost, HostProcessConfig, ToHost } from './protocol.js';
import type {
  HostEventResult,
  HostEvents,
  HostFetchOptions,
  HostResult,
  HostStats,
  HostWorker,
  IsolateHost,
} from './types.js';

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

interface Child {
  proc: ChildProcess;
  /** Messages to the process, sent once per event-loop turn. */
  out: Batcher<ToHost>;
  /** Workers whose bundle this process already holds (or is being sent). */
  bundles: Map<string, Promise<void>>;
  /** WebSocket sessions relayed to the process, by request id. */
  sockets: WebSockets;
  /** Body bytes to and from the process (./body-channel.ts). */
  channel: BodyChannel;
  /** Response-body messages that arrived before their `response-head` (./early-bodies.ts). */
  early: EarlyBodies;
  exited: boolean;
}

/**
 * An isolate host in a child process, so that a machine's cores all serve requests. The
 * process runs a LocalHost; requests and bundles go over IPC. When the process dies, its
 * in-flight requests fail with `ERR_ROUTER_HOST_CRASHED` (the router answers 503) and a new
 * process replaces it.
 */
export class ChildHost implements IsolateHost {
  readonly id: number;
  private child: Child;
  private readonly pending = new Map<number, Pending>();
  /** Request bodies to the host process and response bodies from it (one set per process). */
  private bodies: BodyStreams;
  private nextId = 1;
  private closed = false;
  private lastStats: HostStats | undefined;
  /** Lanes to the process's warm isolates (./lanes.ts); none in a sandbox or with PYWORKERS_LANES=0. */
  private readonly lanes: LaneServer | undefined;

  constructor(
    private readonly config: HostProcessConfig,
    private readonly logger: Logger,
    private readonly events: HostEvents,
    /** Delivers the host's calls on service bindings (the router's `deliver`). */
    private readonly forward?: ForwardCall,
  ) {
    this.id = config.id;
    this.bodies = new BodyStreams(() => {});
    this.lanes = lanesFor(config, logger, (lane, message) =>
      this.post(this.child, { type: 'lane-kill', lane, message }),
    );
    this.child = this.spawn();
  }

  /** The host process's pid (changes when it is replaced). */
  get pid(): number {
    return this.child.proc.pid ?? -1;
  }

  private spawn(): Child {
    const { proc, socket } = spawnHostProcess(this.config);
    const child: Child = {
      proc,
      out: batcher<ToHost>(
        (msg) => {
          if (!child.exited && proc.connected) proc.send(msg);
        },
        (msg, err) =>
          this.logger.error(
            { host: this.id, type: msg.type, err: (err as Error)?.message },
            'message to the isolate host could not be sent',
          ),
      ),
      bundles: new Map(),
      sockets: new WebSockets((msg) => this.post(child, msg)),
      channel: bodyChannel(
        socket,
        (msg) => this.onBody(msg, bodies, child),
        (err) => {
          // Its streams cannot go on: replace the process (the exit handler fails them).
          this.logger.error(
            { host: this.id, err: err.message },
            'isolate host broke its body channel',
          );
          proc.kill('SIGKILL');
        },
      ),
      early: new EarlyBodies(),
      exited: false,
    };
    const bodies = new BodyStreams(
      (msg) => child.channel.post(msg),
      false,
      IPC_STREAM_WINDOW_BYTES,
    );
    const sockets = child.sockets;
    this.bodies = bodies;
    socket.on('drain', () => bodies.drained());
    proc.on('message', (msg: FromHost | BatchMessage<FromHost>) => {
      if (!isBatch(msg)) this.onMessage(msg, bodies, sockets, child);
      else for (const m of msg.msgs) this.onMessage(m, bodies, sockets, child);
    });
    proc.on('error', (err) => this.logger.error({ host: this.id, err }, 'isolate host error'));
    proc.on('exit', (code, signal) => {
      child.exited = true;
      child.channel.close();
      child.early.clear();
      const err = new RouterError(
        'ERR_ROUTER_HOST_CRASHED',
        `isolate host ${this.id} (pid ${proc.pid}) exited (${signal ?? code})`,
      );
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.lanes?.failAll(err);
      bodies.failAll(err);
      sockets.failAll(err.message);
      if (this.closed) return;
      this.logger.error({ host: this.id, pid: proc.pid, code, signal }, 'isolate host crashed');
      this.child = this.spawn();
      this.events.hostReplaced?.(this.id);
    });
    const lanes = this.lanes && { path: this.lanes.path, token: this.lanes.token };
    this.post(child, {
      type: 'init',
      config: { ...this.config, bodyFd: BODY_FD, ...(lanes ? { lanes } : {}) },
    });
    return child;
  }

  /** A message of the body channel; one for a response whose head is not in yet waits for it. */
  private onBody(msg: BodyMessage, bodies: BodyStreams, child: Child): void {
    if (bodies.onMessage(msg)) return;
    if (msg.type !== 'body-chunk' && msg.type !== 'body-end') return;
    // Still waiting for this fetch's answer: its head is on the way over IPC. Otherwise the
    // stream is over here (abandoned, failed) and the message is late: dropped.
    if (!this.pending.has(msg.id)) return;
    if (!child.early.hold(msg)) {
      this.logger.error({ host: this.id }, 'isolate host sent a body past its credit window');
      child.early.clear();
      child.proc.kill('SIGKILL');
    }
  }

  /** An RPC answer whose Response body follows on the body channel (as a response-head's). */
  private streamedResult(
    id: number,
    result: HostEventResult,
    bodies: BodyStreams,
    child: Child,
  ): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    const body = child.early.receive(bodies, id);
    if (result.kind !== 'event') return;
    p?.resolve({ ...result, result: withAnswerBody(result.result, body) } as never);
  }

  private post(child: Child, msg: ToHost): void {
    if (child.exited || !child.proc.connected) return;
    // An answer carries the caller's values: one IPC cannot carry must throw (./child-forward.ts).
    if (msg.type === 'forward-result') child.out.postNow(msg);
    else child.out.post(msg);
  }

  private onMessage(msg: FromHost, bodies: BodyStreams, sockets: WebSockets, child: Child): void {
    if (isWebSocketMessage(msg)) {
      sockets.onMessage(msg);
      return;
    }
    if (msg.type === 'result' && msg.streamed) {
      this.streamedResult(msg.id, msg.result as HostEventResult, bodies, child);
      return;
    }
    switch (msg.type) {
      case 'ws-accept': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve({
          kind: 'response',
          response: {
            status: 101,
            headers: msg.headers,
            body: new Uint8Array(0),
            ...(msg.attach !== undefined
              ? { webSocketRef: msg.attach }
              : { webSocket: sockets.peer(msg.id) }),
          },
          coldStart: msg.coldStart,
        } as never);
        return;
      }
      case 'response-head': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        const body = child.early.receive(bodies, msg.id);
        p?.resolve({
          kind: 'response',
          response: { status: msg.status, headers: msg.headers, body },
          coldStart: msg.coldStart,
        } as never);
        return;
      }
      case 'log':
        this.logger[msg.level]({ ...msg.obj, host: this.id }, msg.msg);
        return;
      case 'event':
        this.events[msg.event](msg.worker, this.id);
        return;
      case 'alarm':
        this.events.alarm?.(msg.worker, msg.className, msg.id, msg.scheduledTime);
        return;
      case 'forward':
        deliverForwarded(this.id, this.forward, msg.id, msg.call, (m) => this.post(child, m));
        return;
      case 'lane-lost':
        this.lanes?.lost(msg.lane, this.revive(msg.error));
        return;
      case 'result':
      case 'stats':
      case 'attached':
      case 'warm': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        // A refused request's body was never read: it goes to the next host untouched.
        if (msg.type === 'result') bodies.forget(msg.id);
        child.early.delete(msg.id);
        const value = msg.type === 'result' ? msg.result : msg.type === 'stats' ? msg.stats : null;
        p?.resolve(value as never);
        return;
      }
      case 'failed': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        child.early.delete(msg.id);
        bodies.cancel(msg.id);
        p?.reject(this.revive(msg.error));
        return;
      }
    }
  }

  /**
   * A package error keeps its name, code, userError and hint across the process boundary;
   * anything else is the host process breaking.
   */
  private revive(error: ErrorData): Error {
    const revived = fromErrorData(error);
    return error.pyworkers
      ? revived
      : new RouterError('ERR_ROUTER_HOST_CRASHED', `isolate host ${this.id}: ${revived.message}`, {
          cause: revived,
        });
  }

  private call<T>(child: Child, build: (id: number) => ToHost): Promise<T> {
    if (child.exited || !child.proc.connected)
      return Promise.reject(
        new RouterError('ERR_ROUTER_HOST_CRASHED', `isolate host ${this.id} is not running`),
      );
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.post(child, build(id));
    });
  }

  async fetch(
    worker: HostWorker,
    request: IsolateRequest,
    { force }: HostFetchOptions,
  ): Promise<HostResult> {
    // A warm isolate's plain request goes on its lane, past the host's main thread.
    const lane = this.closed ? undefined : onLane(this.lanes, worker.name, request);
    if (lane) return { kind: 'response', response: await lane, coldStart: false };
    const { body, ...head } = request;
    const child = await this.withBundle(worker);
    if (body instanceof Uint8Array) {
      return this.call<HostResult>(child, (id) => ({
        type: 'fetch',
        id,
        worker: worker.name,
        request,
        force,
      }));
    }
    const bodies = this.bodies;
    return this.call<HostResult>(child, (id) => {
      // Pull-started: nothing is read from `body` before the host process starts reading it.
      void bodies.send(id, body, true);
      return {
        type: 'fetch',
        id,
        worker: worker.name,
        request: { ...head, body: new Uint8Array(0) },
        force,
        streamed: true,
      };
    });
  }

  async dispatch(
    worker: HostWorker,
    event: WorkerEvent,
    { force }: HostFetchOptions,
  ): Promise<HostEventResult> {
    const child = await this.withBundle(worker);
    return this.call<HostEventResult>(child, (id) => ({
      type: 'dispatch',
      id,
      worker: worker.name,
      event,
      force,
    }));
  }

  async dispatchObject(
    worker: HostWorker,
    target: ObjectTarget,
    input: ObjectEventInput,
  ): Promise<HostEventResult> {
    const child = await this.withBundle(worker);
    return this.call<HostEventResult>(child, (id) => ({
      type: 'object',
      id,
      worker: worker.name,
      target,
      input,
    }));
  }

  /** The current process, once it holds the worker's bundle. */
  private async withBundle(worker: HostWorker): Promise<Child> {
    if (this.closed)
      throw new RouterError('ERR_ROUTER_CLOSED', `isolate host ${this.id} is shutting down`);
    const child = this.child;
    let sent = child.bundles.get(worker.name);
    if (!sent) {
      // IPC is ordered: once the bundle message is queued, every later request may follow it.
      sent = worker.bundle().then((bundle) => {
        this.post(child, {
          type: 'bundle',
          worker: worker.name,
          bundle,
          ...(worker.secrets ? { secrets: worker.secrets } : {}),
          ...(worker.state ? { state: worker.state } : {}),
        });
      });
      sent.catch(() => child.bundles.delete(worker.name));
      child.bundles.set(worker.name, sent);
    }
    await sent;
    return child;
  }

  async attachSocket(ref: string): Promise<WebSocketPeer> {
    const child = this.child;
    let peer: WebSocketPeer | undefined;
    try {
      await this.call<null>(child, (id) => {
        // Made first: what the object sent before the client came arrives right after `attached`.
        peer = child.sockets.peer(id);
        return { type: 'ws-attach', id, ref };
      });
    } catch (err) {
      peer?.close(1011, '');
      throw err;
    }
    return peer!;
  }

  async prepare(worker: HostWorker): Promise<void> {
    await this.withBundle(worker);
  }

  async ready(firstStarts: number): Promise<void> {
    await this.call<null>(this.child, (id) => ({ type: 'warm', id, firstStarts }));
  }

  async stats(): Promise<HostStats> {
    // A host busy with a cold start still answers quickly; one that does not answer within a
    // second is reported as it last answered (marked stale; empty before any answer) rather
    // than hanging the status page or a metrics scrape, or showing its isolates gone.
    let timer: NodeJS.Timeout | undefined;
    try {
      this.lastStats = await Promise.race([
        // The pid the router can signal: inside a sandbox the host sees its own PID namespace.
        this.call<HostStats>(this.child, (id) => ({ type: 'stats', id })).then((stats) => ({
          ...stats,
          pid: this.pid,
          ...this.lanes?.stats(),
        })),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('stats timeout')), 1_000);
        }),
      ]);
      return this.lastStats;
    } catch {
      return {
        ...(this.lastStats?.pid === this.pid
          ? this.lastStats
          : {
              id: this.id,
              kind: 'process',
              pid: this.pid,
              inflight: 0,
              usedBytes: 0,
              budgetBytes: this.config.budgetBytes,
              workers: [],
            }),
        stale: true,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const { proc, exited } = this.child;
    if (exited) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    this.child.out.flush();
    // Disconnecting lets the host close its isolates and exit by itself; kill it if it hangs.
    if (proc.connected) proc.disconnect();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
    this.lanes?.close();
  }
}
