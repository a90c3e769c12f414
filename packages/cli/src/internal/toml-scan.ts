/** One segment of a key path: a key, or an index into an array (or array of tables). */
export type PathSegment = string | number;

/** Where one key or array element of a TOML document sits in its text. */
export interface TomlNode {
  path: PathSegment[];
  /** 1-based line of the key (or of the element, for array items; of the header, for tables). */
  line: number;
  /** Offset of the value's first character (for a table header: of the `[`). */
  valueStart: number;
  /** Offset just past the value's last character. */
  valueEnd: number;
}

const BARE_KEY = /[A-Za-z0-9_-]/;

/**
 * Scans a TOML document for the positions of its keys, tables and array elements. It reads
 * text that a real parser has already accepted, so it only has to find things, not validate
 * them; what it gives the CLI is what parsers do not: lines for error messages and spans for
 * edits that keep the rest of the file byte for byte.
 */
export function scanToml(text: string): TomlNode[] {
  const nodes: TomlNode[] = [];
  const lineStarts = [0];
  for (let k = 0; k < text.length; k++) if (text[k] === '\n') lineStarts.push(k + 1);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  let i = 0;
  const skipWs = (): void => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  const skipComment = (): void => {
    if (text[i] === '#') while (i < text.length && text[i] !== '\n') i++;
  };
  const skipAll = (): void => {
    for (;;) {
      const before = i;
      skipWs();
      skipComment();
      if (text[i] === '\n' || text[i] === '\r') i++;
      if (i === before) return;
    }
  };
  const skipString = (): string => {
    const quote = text[i]!;
    const triple = text.startsWith(quote.repeat(3), i);
    const start = i;
    if (triple) {
      i += 3;
      while (i < text.length && !text.startsWith(quote.repeat(3), i))
        i += text[i] === '\\' && quote === '"' ? 2 : 1;
      i += 3;
      // A closing run may hold up to two more quotes that belong to the content.
      while (text[i] === quote) i++;
    } else {
      i++;
      while (i < text.length && text[i] !== quote && text[i] !== '\n')
        i += text[i] === '\\' && quote === '"' ? 2 : 1;
      i++;
    }
    const raw = text.slice(start, i);
    if (quote === "'") return raw.replace(/^'+|'+$/g, '');
    try {
      return JSON.parse(raw) as string;
    } catch {
      return raw.slice(1, -1);
    }
  };
  const parseKey = (): string[] => {
    const keys: string[] = [];
    for (;;) {
      skipWs();
      if (text[i] === '"' || text[i] === "'") keys.push(skipString());
      else {
        const start = i;
        while (i < text.length && BARE_KEY.test(text[i]!)) i++;
        if (i === start) i++;
        keys.push(text.slice(start, i));
      }
      skipWs();
      if (text[i] !== '.') return keys;
      i++;
    }
  };
  const parseValue = (path: PathSegment[], line: number): void => {
    const start = i;
    const c = text[i];
    if (c === '[') {
      i++;
      let index = 0;
      for (;;) {
        skipAll();
        if (i >= text.length || text[i] === ']') break;
        const before = i;
        parseValue([...path, index++], lineAt(i));
        skipAll();
        if (text[i] === ',') i++;
        if (i === before) i++;
      }
      i++;
    } else if (c === '{') {
      i++;
      for (;;) {
        skipWs();
        if (i >= text.length || text[i] === '}' || text[i] === '\n') break;
        const keyAt = i;
        const keys = parseKey();
        skipWs();
        if (text[i] === '=') i++;
        skipWs();
        parseValue([...path, ...keys], lineAt(keyAt));
        skipWs();
        if (text[i] === ',') i++;
        if (i === keyAt) i++;
      }
      i++;
    } else if (c === '"' || c === "'") {
      skipString();
    } else {
      while (i < text.length && !',]}\n#'.includes(text[i]!)) i++;
      while (i > start && (text[i - 1] === ' ' || text[i - 1] === '\t' || text[i - 1] === '\r'))
        i--;
    }
    nodes.push({ path, line, valueStart: start, valueEnd: i });
  };

  let table: PathSegment[] = [];
  const arrayTables = new Map<string, number>();
  while (i < text.length) {
    skipAll();
    if (i >= text.length) break;
    const at = i;
    if (text[i] === '[') {
      const isArray = text[i + 1] === '[';
      i += isArray ? 2 : 1;
      const keys = parseKey();
      i += isArray ? 2 : 1;
      if (isArray) {
        const id = JSON.stringify(keys);
        const n = (arrayTables.get(id) ?? -1) + 1;
        arrayTables.set(id, n);
        table = [...keys, n];
      } else {
        table = keys;
      }
      nodes.push({ path: table, line: lineAt(at), valueStart: at, valueEnd: i });
    } else {
      const keys = parseKey();
      skipWs();
      if (text[i] === '=') i++;
      skipWs();
      parseValue([...table, ...keys], lineAt(at));
    }
    skipWs();
    skipComment();
    if (i === at) i++;
  }
  return nodes;
}

const samePath = (a: PathSegment[], b: PathSegment[]): boolean =>
  a.length === b.length && a.every((s, k) => s === b[k]);

/** The node at exactly `path`, if the text has one. */
export function findNode(nodes: TomlNode[], path: PathSegment[]): TomlNode | undefined {
  return nodes.find((n) => samePath(n.path, path));
}

/**
 * The line that best explains `path`: the key itself, else its nearest ancestor written in
 * the file (a missing key is reported at the table that should hold it).
 */
export function lineOf(text: string, path: PathSegment[]): number | undefined {
  let nodes: TomlNode[];
  try {
    nodes = scanToml(text);
  } catch {
    return undefined;
  }
  for (let len = path.length; len > 0; len--) {
    const prefix = path.slice(0, len);
    const node =
      findNode(nodes, prefix) ?? nodes.find((n) => samePath(n.path.slice(0, len), prefix));
    if (node) return node.line;
  }
  return undefined;
}
