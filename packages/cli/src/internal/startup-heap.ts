import { setFlagsFromString } from 'node:v8';

/** V8's default `--semi-space-growth-factor`. */
const V8_GROWTH_FACTOR = 2;
const FLAG = '--semi-space-growth-factor';

/**
 * Loads the CLI's modules with V8's young generation held at its first size (1 MiB
 * semi-spaces), then lets it grow again as V8 would. Parsing and compiling the modules is what
 * grows it (to 8 MiB semi-spaces, ~11 MiB of pages holding ~0.3 MiB once `serve` listens), and
 * V8 gives those pages back only when its memory reducer runs, ~8 s after the process went
 * quiet: `pyworkers serve` held ~10 MiB more RSS until then (router README, "HTTP": session 13).
 * A growth factor the operator set (`NODE_OPTIONS`, node's flags) is left alone. Measured on
 * Node 20 (V8 11.3); newer V8 sources raise any factor below 2 to 2 (a minimum-value implication),
 * where this changes nothing (no error: the flag exists).
 */
export async function loadWithSmallYoungGeneration<T>(load: () => Promise<T>): Promise<T> {
  const own = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) =>
    arg.replaceAll('_', '-').startsWith(FLAG),
  );
  if (own) return load();
  setFlagsFromString(`${FLAG}=1`);
  try {
    return await load();
  } finally {
    setFlagsFromString(`${FLAG}=${V8_GROWTH_FACTOR}`);
  }
}
