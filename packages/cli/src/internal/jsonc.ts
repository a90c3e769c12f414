/**
 * Turns JSON with comments and trailing commas (wrangler.jsonc) into plain JSON of the same
 * length, line for line, so positions in errors still point into the user's file.
 */
export function stripJsonc(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n' && out[k] !== '\r') out[k] = ' ';
  };
  let lastSignificant = -1;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      lastSignificant = i;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const to = end < 0 ? text.length : end;
      blank(i, to);
      i = to;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const to = end < 0 ? text.length : end + 2;
      blank(i, to);
      i = to;
    } else if (c === '}' || c === ']') {
      if (lastSignificant >= 0 && out[lastSignificant] === ',') out[lastSignificant] = ' ';
      lastSignificant = i;
      i++;
    } else {
      if (c !== undefined && !/\s/.test(c)) lastSignificant = i;
      i++;
    }
  }
  return out.join('');
}

/** 1-based line of an offset. */
export function lineAtOffset(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === '\n') line++;
  return line;
}

/**
 * The line of a key path in JSON text, found by looking for each key in turn after the
 * previous one (good enough for error messages about a config file).
 */
export function jsonKeyLine(text: string, path: PropertyKey[]): number | undefined {
  let from = 0;
  let found: number | undefined;
  for (const seg of path) {
    if (typeof seg !== 'string') continue;
    const re = new RegExp(`"${seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`, 'g');
    re.lastIndex = from;
    const m = re.exec(text);
    if (!m) break;
    found = m.index;
    from = m.index + m[0].length;
  }
  return found === undefined ? undefined : lineAtOffset(text, found);
}

/**
 * Offset of the first syntax error in JSON text (Node 20's JSON.parse does not say where).
 * Returns undefined for valid JSON.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          ws();
          if (text[i] !== '"') fail();
          value();
          ws();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      if (text[i] !== '"') fail();
      i++;
      return;
    }
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return undefined;
  } catch (pos) {
    return typeof pos === 'number' ? pos : undefined;
  }
}
