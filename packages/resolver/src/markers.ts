// PEP 508 environment markers, evaluated for the pinned Pyodide (sys_platform "emscripten", ...).
// Semantics follow `packaging.markers`: version operators compare as PEP 440 (pre-releases
// included) when both sides are versions, else `==`/`!=` compare strings; `in`/`not in` are
// substring tests; `extra` is compared after name normalisation.
import { satisfies, valid } from '@renovatebot/pep440';
import { ResolverError } from './errors.js';

/** The values marker variables take (PEP 508 names). */
export interface MarkerEnvironment {
  python_version: string;
  python_full_version: string;
  sys_platform: string;
  platform_system: string;
  platform_machine: string;
  platform_release: string;
  platform_version: string;
  platform_python_implementation: string;
  implementation_name: string;
  implementation_version: string;
  os_name: string;
}

/** The `info` block of a pyodide-lock.json. */
export interface PyodideLockInfo {
  abi_version: string;
  arch: string;
  platform: string;
  python: string;
}

/**
 * The marker environment of Pyodide: what `packaging.markers.default_environment()` returns
 * inside it (sys_platform "emscripten", platform_machine "wasm32", CPython of the lock's version).
 * @example pyodideMarkerEnvironment(readPyodideLock(PYODIDE_LOCK_FILE).info)
 */
export function pyodideMarkerEnvironment(info: PyodideLockInfo): MarkerEnvironment {
  const [major = '3', minor = '0'] = info.python.split('.');
  const emscripten = /^emscripten_(\d+)_(\d+)_(\d+)$/.exec(info.platform);
  return {
    python_version: `${major}.${minor}`,
    python_full_version: info.python,
    sys_platform: 'emscripten',
    platform_system: 'Emscripten',
    platform_machine: info.arch,
    platform_release: emscripten ? emscripten.slice(1).join('.') : '',
    platform_version: '#1',
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    implementation_version: info.python,
    os_name: 'posix',
  };
}

type Node =
  | { kind: 'or'; left: Node; right: Node }
  | { kind: 'and'; left: Node; right: Node }
  | { kind: 'cmp'; left: Operand; op: string; right: Operand };
type Operand = { variable: string } | { literal: string };

// Old spellings that packaging still accepts.
const ALIASES: Record<string, string> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};
const VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'sys_platform',
  'platform_system',
  'platform_machine',
  'platform_release',
  'platform_version',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'os_name',
  'extra',
]);

const TOKEN =
  /\s*(?:(\()|(\))|('[^']*'|"[^"]*")|(===|==|!=|<=|>=|~=|<|>)|(not\s+in\b)|(in\b|and\b|or\b)|([A-Za-z_][A-Za-z0-9_.]*))/y;

function fail(marker: string, why: string): never {
  throw new ResolverError('ERR_MARKER', `invalid environment marker "${marker}": ${why}`);
}

function tokenize(marker: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < marker.length) {
    if (/^\s*$/.test(marker.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(marker);
    if (!m) fail(marker, `unexpected text at "${marker.slice(pos).trim()}"`);
    out.push(m[5] ? 'not in' : m.slice(1).find((g) => g !== undefined)!);
    pos = TOKEN.lastIndex;
  }
  return out;
}

function parse(marker: string): Node {
  const tokens = tokenize(marker);
  let i = 0;
  const operand = (): Operand => {
    const t = tokens[i++];
    if (t === undefined) return fail(marker, 'it ends early');
    if (t.startsWith('"') || t.startsWith("'")) return { literal: t.slice(1, -1) };
    const name = ALIASES[t] ?? t;
    if (!VARIABLES.has(name)) fail(marker, `unknown variable "${t}"`);
    return { variable: name };
  };
  const expr = (): Node => {
    if (tokens[i] === '(') {
      i++;
      const inner = or();
      if (tokens[i++] !== ')') fail(marker, 'missing )');
      return inner;
    }
    const left = operand();
    const op = tokens[i++];
    if (!op || !/^(===|==|!=|<=|>=|~=|<|>|in|not in)$/.test(op)) {
      fail(marker, `expected a comparison operator after ${JSON.stringify(left)}`);
    }
    return { kind: 'cmp', left, op, right: operand() };
  };
  const and = (): Node => {
    let node = expr();
    while (tokens[i] === 'and') {
      i++;
      node = { kind: 'and', left: node, right: expr() };
    }
    return node;
  };
  const or = (): Node => {
    let node = and();
    while (tokens[i] === 'or') {
      i++;
      node = { kind: 'or', left: node, right: and() };
    }
    return node;
  };
  const node = or();
  if (i !== tokens.length) fail(marker, `unexpected "${tokens[i]}"`);
  return node;
}

const normalizeExtra = (s: string) => s.toLowerCase().replace(/[-_.]+/g, '-');

function compare(marker: string, lhs: string, op: string, rhs: string): boolean {
  if (op === 'in') return rhs.includes(lhs);
  if (op === 'not in') return !rhs.includes(lhs);
  if (op !== '===' && valid(lhs) && valid(rhs.replace(/\.\*$/, ''))) {
    return satisfies(lhs, `${op}${rhs}`, { prereleases: true });
  }
  if (op === '==' || op === '===') return lhs === rhs;
  if (op === '!=') return lhs !== rhs;
  return fail(marker, `cannot compare "${lhs}" ${op} "${rhs}" (not versions)`);
}

const cache = new Map<string, Node>();

function evaluate(marker: string, node: Node, env: MarkerEnvironment, extra: string): boolean {
  if (node.kind === 'or') {
    return evaluate(marker, node.left, env, extra) || evaluate(marker, node.right, env, extra);
  }
  if (node.kind === 'and') {
    return evaluate(marker, node.left, env, extra) && evaluate(marker, node.right, env, extra);
  }
  const isExtra =
    'variable' in node.left
      ? node.left.variable === 'extra'
      : 'variable' in node.right && node.right.variable === 'extra';
  const value = (o: Operand): string => {
    if ('literal' in o) return isExtra ? normalizeExtra(o.literal) : o.literal;
    if (o.variable === 'extra') return extra;
    return env[o.variable as keyof MarkerEnvironment];
  };
  return compare(marker, value(node.left), node.op, value(node.right));
}

/** Parses a marker (cached), throwing `ERR_MARKER` for a malformed one. */
export function parseMarker(marker: string): void {
  if (!cache.has(marker)) cache.set(marker, parse(marker));
}

/**
 * Evaluates a PEP 508 marker. `extras` are the extras being installed: like pip, the marker
 * holds when it is true for any of them (or, with none, for `extra == ""`).
 * @example evaluateMarker('sys_platform == "emscripten"', env) // true on Pyodide
 */
export function evaluateMarker(
  marker: string,
  env: MarkerEnvironment,
  extras: Iterable<string> = [],
): boolean {
  if (marker.trim() === '') return true;
  let node = cache.get(marker);
  if (!node) {
    node = parse(marker);
    cache.set(marker, node);
  }
  const list = [...extras].map(normalizeExtra);
  if (list.length === 0) return evaluate(marker, node, env, '');
  return list.some((e) => evaluate(marker, node, env, e));
}
