// The host side of service bindings: a worker's host calls on its `service` bindings go to
// the router; every other call goes to @pyworkers/bindings as before.
import type { Bundle, HostCall, HostCallHandler } from '@pyworkers/isolate';
import { STREAM_CANCEL_METHOD, STREAM_READ_METHOD } from './response-streams.js';
import type { ForwardCall } from './types.js';

type Declaration = NonNullable<Bundle['manifest']['bindings']>[number];
type ServiceDeclaration = Extract<Declaration, { type: 'service' }>;
type ObjectDeclaration = Extract<Declaration, { type: 'durable_object_namespace' }>;

/** The host-call method of a Durable Object stub's fetch/RPC: args `[id, name, method, ...args]`. */
export const STUB_METHOD = 'stub';

const refuse = (code: string, message: string): Promise<never> =>
  Promise.reject(Object.assign(new Error(message), { code }));

/**
 * The host-call handler of `worker`'s isolates: its service bindings forwarded with
 * `forward`, the rest answered by `rest` (its store bindings). Undefined when it has neither.
 */
export function serviceHostCalls(
  worker: string,
  bundle: Bundle,
  forward: ForwardCall | undefined,
  rest: HostCallHandler | undefined,
): HostCallHandler | undefined {
  const services = new Map<string, ServiceDeclaration>();
  const objects = new Map<string, ObjectDeclaration>();
  for (const decl of bundle.manifest.bindings ?? []) {
    if (decl.type === 'service') services.set(decl.name, decl);
    if (decl.type === 'durable_object_namespace') objects.set(decl.name, decl);
  }
  if (services.size === 0 && objects.size === 0) return rest;
  return (call) => {
    const object = objects.get(call.binding);
    if (object && call.method === STUB_METHOD) return objectCall(worker, object, forward, call);
    if (object && isBodyMethod(call.method)) return bodyCall(worker, object, forward, call);
    const decl = services.get(call.binding);
    if (!decl) {
      return rest
        ? rest(call)
        : refuse(
            'ERR_BINDING_UNDECLARED',
            `binding '${call.binding}' is not declared by ${worker}; declare it in its config`,
          );
    }
    if (!forward) {
      return refuse(
        'ERR_SERVICE_UNAVAILABLE',
        `service binding '${call.binding}': this host cannot reach other workers (it has no router)`,
      );
    }
    return forward({
      from: worker,
      binding: call.binding,
      target: {
        kind: 'service',
        service: decl.service,
        ...(decl.entrypoint ? { entrypoint: decl.entrypoint } : {}),
      },
      method: call.method,
      args: call.args,
    });
  };
}

const isBodyMethod = (method: string): boolean =>
  method === STREAM_READ_METHOD || method === STREAM_CANCEL_METHOD;

const noRouter = (call: HostCall): Promise<never> =>
  refuse(
    'ERR_SERVICE_UNAVAILABLE',
    `Durable Object binding '${call.binding}': this host cannot reach objects (it has no router)`,
  );

/**
 * A read or cancel of the streamed body of a stub's fetch (args `[stream id]`): forwarded, to
 * the table that holds it (the router or the host process its id names), not to an object.
 */
function bodyCall(
  worker: string,
  decl: ObjectDeclaration,
  forward: ForwardCall | undefined,
  call: HostCall,
): Promise<unknown> {
  if (!forward) return noRouter(call);
  return forward({
    from: worker,
    binding: call.binding,
    target: {
      kind: 'object',
      service: decl.scriptName ?? worker,
      className: decl.className,
      id: '',
    },
    method: call.method,
    args: Array.isArray(call.args) ? call.args : [],
  });
}

/** A stub's fetch/RPC: forwarded to the router, which places the object by its id. */
function objectCall(
  worker: string,
  decl: ObjectDeclaration,
  forward: ForwardCall | undefined,
  call: HostCall,
): Promise<unknown> {
  const [id, name, method, ...args] = Array.isArray(call.args) ? call.args : [];
  if (typeof id !== 'string' || typeof method !== 'string')
    return refuse(
      'ERR_BINDING_ARGS',
      `Durable Object binding '${call.binding}': a stub call takes [id, name, method, ...args]`,
    );
  if (!forward) return noRouter(call);
  return forward({
    from: worker,
    binding: call.binding,
    target: {
      kind: 'object',
      service: decl.scriptName ?? worker,
      className: decl.className,
      id,
      ...(typeof name === 'string' ? { name } : {}),
    },
    method,
    args,
  });
}
