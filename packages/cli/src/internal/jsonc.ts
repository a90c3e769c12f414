import {
  findNodeAtLocation,
  type ParseError,
  parse,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';

const OPTIONS = { allowTrailingComma: true, disallowComments: false };

/** 1-based line of an offset. */
export function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === '\n') line++;
  return line;
}

/**
 * Parses JSON with comments and trailing commas (wrangler.jsonc). On a syntax error throws an
 * Error with the 1-based `line` of the first one, since that is what a user needs to find it.
 */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value = parse(text, errors, OPTIONS);
  const first = errors[0];
  if (first) {
    const line = lineAtOffset(text, first.offset);
    throw Object.assign(new Error(`${printParseErrorCode(first.error)} at line ${line}`), {
      line,
    });
  }
  return value;
}

/**
 * The 1-based line of the key at `path` (`['vars', 'X']`, `['routes', 2]`), or of the deepest
 * part of it that exists; undefined when not even the first key is there. Keys inside strings
 * or under another object never match.
 */
export function jsonKeyLine(text: string, path: readonly PropertyKey[]): number | undefined {
  const root = parseTree(text, [], OPTIONS);
  if (!root) return undefined;
  for (let n = path.length; n > 0; n--) {
    const segments = path.slice(0, n).map((p) => (typeof p === 'number' ? p : String(p)));
    const node = findNodeAtLocation(root, segments);
    if (!node) continue;
    // A property's value node: point at its key, where the user reads the name.
    const at = node.parent?.type === 'property' ? node.parent.offset : node.offset;
    return lineAtOffset(text, at);
  }
  return undefined;
}
