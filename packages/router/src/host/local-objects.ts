// Durable Object events on a LocalHost: each runs on the isolate its object is pinned to (the
// router sends every event of one id to one host); an alarm runs only while it is due and is
// settled in the object's own file.
import type { WorkerEvent, WorkerEventResult } from '@pyworkers/isolate';
import { RouterError } from '../errors.js';
import type { IsolateHandle } from '../launcher.js';
import type { ObjectEventInput, ObjectsHost, ObjectTarget } from '../objects/object-host.js';
import { answerBody, withAnswerBody } from '../services/answer-bodies.js';
import { untilDone } from './busy-until.js';
import type { HostEventResult, HostWorker } from './types.js';

/**
 * The host's `run`, forced (an object's events are never refused): `work` runs on the isolate
 * `pin.pick` gives, or one the host picks and `pin.picked` pins.
 */
export type RunPinned<I> = (
  work: (
    handle: IsolateHandle,
    keep: () => () => void,
    drop: (err: unknown) => void,
  ) => Promise<WorkerEventResult>,
  pin: { pick: () => I | undefined; picked: (iso: I) => void },
) => Promise<
  | { kind: 'done'; value: WorkerEventResult; coldStart: boolean }
  | Extract<HostEventResult, { kind: 'refused' }>
>;

/** Runs one event of the Durable Object `target` with `run` (see LocalHost.dispatchObject). */
export async function runObjectEvent<I extends object>(
  objects: ObjectsHost<I>,
  run: RunPinned<I>,
  worker: HostWorker,
  target: ObjectTarget,
  input: ObjectEventInput,
): Promise<HostEventResult> {
  const ns = objects.namespace(worker, target.className);
  const id = ns.idFromString(target.id, target.className);
  const storage = ns.storage(id);
  let alarm: { scheduledTime: number; retryCount: number } | null = null;
  if (input.op === 'alarm') {
    alarm = await storage.alarmState();
    if (!alarm || alarm.scheduledTime > Date.now())
      return {
        kind: 'event',
        result: { type: 'rpc', outcome: 'ok', value: alarm?.scheduledTime ?? null },
        coldStart: false,
      } as HostEventResult;
  }
  let token = '';
  let done = (): void => {};
  let streaming = false;
  const ran = await run(
    async (handle, keep, drop) => {
      if (!handle.dispatch)
        throw new RouterError(
          'ERR_ROUTER_NO_EVENTS',
          `the isolate launcher of ${worker.name} returns isolates that cannot run Durable Object events`,
        );
      const result = await handle.dispatch({
        type: 'rpc',
        method: input.method,
        args: input.args,
        object: {
          className: target.className,
          id,
          ...(target.name ? { name: target.name } : {}),
          token,
          ...(alarm ? { op: 'alarm', retryCount: alarm.retryCount } : {}),
          ...(input.op === 'ws' ? { op: 'ws', ws: input.ws } : {}),
          // A new instance of an object with open sockets lists them before its constructor.
          sockets: objects.socketCount(worker.name, { ...target, id }),
        },
      } as unknown as WorkerEvent);
      // A fetch answered with a streamed body: the event is over (the object's gate is
      // free), but its isolate and the object stay busy, never evicted, until the body ends.
      const body = answerBody(result);
      if (!body) return result;
      streaming = true;
      const release = keep();
      const objectDone = done;
      const ended = (): void => {
        release();
        objectDone();
      };
      return withAnswerBody(result, untilDone(body, ended, drop));
    },
    {
      pick: () => objects.pinned(worker.name, { ...target, id }),
      picked: (iso) => {
        token = objects.pin(worker, { ...target, id }, iso, ns);
        done = objects.begin(worker.name, { ...target, id });
      },
    },
  ).finally(() => {
    if (!streaming) done();
  });
  if (ran.kind === 'refused') return ran;
  const result = ran.value as { type: 'rpc'; outcome: string };
  if (alarm) {
    const next = await storage.settleAlarm(alarm.scheduledTime, result.outcome === 'ok');
    return {
      kind: 'event',
      result: { ...result, ...(result.outcome === 'ok' ? { value: next } : {}) },
      coldStart: ran.coldStart,
    } as HostEventResult;
  }
  return { kind: 'event', result: ran.value, coldStart: ran.coldStart } as HostEventResult;
}
