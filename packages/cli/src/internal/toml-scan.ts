import { type AST, parseTOML } from 'toml-eslint-parser';

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

/**
 * The positions of a TOML document's keys, tables and array elements, in document order, read
 * from toml-eslint-parser's syntax tree. Parsers that give values (smol-toml) drop where things
 * are; the CLI needs lines for error messages and spans for edits that keep the rest of the file
 * byte for byte. Throws on text that is not TOML.
 */
export function scanToml(text: string): TomlNode[] {
  const program = parseTOML(text);
  const nodes: TomlNode[] = [];
  const content = (value: AST.TOMLContentNode, path: PathSegment[], line: number): void => {
    nodes.push({ path, line, valueStart: value.range[0], valueEnd: value.range[1] });
    if (value.type === 'TOMLArray') {
      for (const [k, el] of value.elements.entries()) content(el, [...path, k], el.loc.start.line);
    } else if (value.type === 'TOMLInlineTable') {
      for (const kv of value.body) keyValue(kv, path);
    }
  };
  const keyValue = (kv: AST.TOMLKeyValue, table: PathSegment[]): void =>
    content(kv.value, [...table, ...keyPath(kv.key)], kv.loc.start.line);
  for (const item of program.body[0].body) {
    if (item.type === 'TOMLKeyValue') {
      keyValue(item, []);
      continue;
    }
    // The table's own span is its header: `[a.b]` or `[[a.b]]` (only blanks may follow the key).
    const close = text.indexOf(']', item.key.range[1]) + (item.kind === 'array' ? 2 : 1);
    const path = item.resolvedKey;
    nodes.push({ path, line: item.loc.start.line, valueStart: item.range[0], valueEnd: close });
    for (const kv of item.body) keyValue(kv, path);
  }
  return nodes;
}

const keyPath = (key: AST.TOMLKey): string[] =>
  key.keys.map((k) => (k.type === 'TOMLBare' ? k.name : k.value));

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
