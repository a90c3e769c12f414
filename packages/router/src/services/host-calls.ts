// The host side of service bindings: a worker's host calls on its `service` bindings go to
// the router; every other call goes to @pyworkers/bindings as before.
import type { Bundle, HostCallHandler } from '@pyworkers/isolate';
import type { ForwardCall } from './types.js';

type ServiceDeclaration = Extract<
  NonNullable<Bundle['manifest']['bindings']>[number],
  { type: 'service' }
>;

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
  for (const decl of bundle.manifest.bindings ?? [])
    if (decl.type === 'service') services.set(decl.name, decl);
  if (services.size === 0) return rest;
  return (call) => {
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
