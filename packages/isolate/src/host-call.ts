// The one way out of an isolate: a worker's binding proxies send host calls (binding, method,
// arguments) that the isolate's owner answers. This package only carries them; the router or
// host process answers them with `@pyworkers/bindings`, which this package never imports.

/** One call from Python, e.g. `{ binding: 'KV', method: 'get', args: ['key', { type: 'text' }] }`. */
export interface HostCall {
  /** Name of the binding in the worker's env (`self.env.KV` -> `KV`). */
  binding: string;
  method: string;
  /** Structured-clone data: strings, numbers, booleans, null, arrays, plain objects, Uint8Array. */
  args: unknown[];
}

/**
 * Answers a worker's host calls. Resolve with structured-clone data (Uint8Array for bytes);
 * reject with an error carrying a string `code` and a `message`: Python raises it as
 * `workers.BindingError` naming the binding.
 * @example const hostCalls: HostCallHandler = async ({ binding, method, args }) => store.call(binding, method, args);
 */
export type HostCallHandler = (call: HostCall) => Promise<unknown>;

/** What a rejected host call carries back into the isolate (never a stack: it reaches user code). */
export interface HostCallError {
  code: string;
  message: string;
}

/** The code a rejected call gets when its error has none. */
export const HOST_CALL_FAILED = 'ERR_HOST_CALL';

/** Turns whatever a handler threw into the `{ code, message }` an isolate may see. */
export function hostCallError(err: unknown): HostCallError {
  const e = err as { code?: unknown; message?: unknown } | null | undefined;
  const code = typeof e?.code === 'string' && e.code.length > 0 ? e.code : HOST_CALL_FAILED;
  const message = typeof e?.message === 'string' && e.message.length > 0 ? e.message : String(err);
  return { code, message };
}
