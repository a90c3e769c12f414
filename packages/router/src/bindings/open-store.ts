// The one place the router opens `@pyworkers/bindings` (DESIGN: router may import bindings).
import { openStore } from '@pyworkers/bindings';
import type { Logger } from '@pyworkers/isolate';
import { BindingsWiring, type OpenStore } from './wiring.js';

/** Opens the store of a state directory with `@pyworkers/bindings`. */
export const openBindingsStore: OpenStore = ({ stateDir, logger }) =>
  openStore({ stateDir, logger });

/** The bindings of a host: stores opened on demand, one per state directory. */
export function hostBindings(logger: Logger): BindingsWiring {
  return new BindingsWiring(openBindingsStore, logger);
}
