import { normalizeName, parseRequirement } from '@pyworkers/resolver';
import { parse as parseToml } from 'smol-toml';
import { CliError } from './errors.js';
import { findNode, scanToml, type TomlNode } from './internal/toml-scan.js';

const DEPS = ['project', 'dependencies'];

interface DepsArray {
  node: TomlNode;
  elements: { node: TomlNode; value: string }[];
}

function readDeps(text: string, file: string): DepsArray | undefined {
  const doc = parseToml(text) as { project?: { dependencies?: unknown } };
  const nodes = scanToml(text);
  const node = findNode(nodes, DEPS);
  if (!node) return undefined;
  const values = doc.project?.dependencies;
  if (!Array.isArray(values) || text[node.valueStart] !== '[') {
    throw new CliError('ERR_CONFIG', '[project].dependencies is not an array of strings', {
      where: `${file}:${node.line}`,
      hint: 'write it as dependencies = ["package>=1.0", ...]',
    });
  }
  const elements = nodes
    .filter((n) => n.path.length === 3 && n.path[0] === 'project' && n.path[1] === 'dependencies')
    .sort((a, b) => a.valueStart - b.valueStart)
    .map((n, k) => ({ node: n, value: String(values[k]) }));
  return { node, elements };
}

const lineStart = (text: string, pos: number): number => text.lastIndexOf('\n', pos - 1) + 1;
/** End of the line's content: before its `\n` or `\r\n`. */
const lineEnd = (text: string, pos: number): number => {
  const end = text.indexOf('\n', pos);
  if (end < 0) return text.length;
  return text[end - 1] === '\r' ? end - 1 : end;
};
/** Start of the next line (past the line break). */
const nextLine = (text: string, pos: number): number => {
  const end = text.indexOf('\n', pos);
  return end < 0 ? text.length : end + 1;
};
/** The file's line break, so added lines match it (Windows editors write `\r\n`). */
const eolOf = (text: string): string => (text.includes('\r\n') ? '\r\n' : '\n');

function quoteLike(text: string, sample: TomlNode | undefined, value: string): string {
  if (sample && text[sample.valueStart] === "'" && !value.includes("'")) return `'${value}'`;
  return JSON.stringify(value);
}

function removeElement(text: string, deps: DepsArray, index: number): string {
  const el = deps.elements[index]!.node;
  const ownLine = text.slice(lineStart(text, el.valueStart), el.valueStart).trim() === '';
  const after = text.slice(el.valueEnd, lineEnd(text, el.valueEnd));
  const restOfLineIsComma = /^\s*,?\s*(#.*)?$/.test(after);
  if (ownLine && restOfLineIsComma && text.slice(el.valueStart, el.valueEnd).indexOf('\n') < 0) {
    // One element per line: drop the whole line, its comma and its comment with it.
    const from = lineStart(text, el.valueStart);
    const to = nextLine(text, el.valueEnd);
    let out = text.slice(0, from) + text.slice(to);
    const isLast = index === deps.elements.length - 1;
    if (isLast && !/^\s*,/.test(after) && index > 0) {
      // The removed last element had no trailing comma, so the new last must not have one.
      const prev = deps.elements[index - 1]!.node;
      const m = /^\s*,/.exec(out.slice(prev.valueEnd));
      if (m) out = out.slice(0, prev.valueEnd) + out.slice(prev.valueEnd + m[0].length);
    }
    return out;
  }
  const comma = /^\s*,[ \t]*/.exec(text.slice(el.valueEnd));
  if (comma && index < deps.elements.length - 1) {
    return text.slice(0, el.valueStart) + text.slice(el.valueEnd + comma[0].length);
  }
  if (index > 0) {
    const prev = deps.elements[index - 1]!.node;
    return text.slice(0, prev.valueEnd) + text.slice(el.valueEnd + (comma?.[0].length ?? 0));
  }
  return text.slice(0, el.valueStart) + text.slice(el.valueEnd + (comma?.[0].length ?? 0));
}

function appendElement(text: string, deps: DepsArray, value: string): string {
  const { node } = deps;
  const last = deps.elements.at(-1);
  const quoted = quoteLike(text, last?.node, value);
  const arrayText = text.slice(node.valueStart, node.valueEnd);
  const nl = eolOf(text);
  if (!last) {
    if (!arrayText.includes('\n')) {
      return `${text.slice(0, node.valueStart)}[${nl}    ${quoted},${nl}]${text.slice(node.valueEnd)}`;
    }
    const close = node.valueEnd - 1;
    return `${text.slice(0, close)}    ${quoted},${nl}${text.slice(close)}`;
  }
  if (!arrayText.includes('\n')) {
    const comma = /^\s*,/.exec(text.slice(last.node.valueEnd));
    const at = last.node.valueEnd + (comma?.[0].length ?? 0);
    return `${text.slice(0, at)}${comma ? ' ' : ', '}${quoted}${text.slice(at)}`;
  }
  const indent = /^[ \t]*/.exec(text.slice(lineStart(text, last.node.valueStart)))![0];
  const after = text.slice(last.node.valueEnd, lineEnd(text, last.node.valueEnd));
  const comma = /^\s*,/.exec(after);
  if (/^\s*,?\s*(#.*)?$/.test(after)) {
    // The last element ends its line (maybe with a comment): the new one goes on the next line.
    const eol = lineEnd(text, last.node.valueEnd);
    const head = comma
      ? text
      : `${text.slice(0, last.node.valueEnd)},${text.slice(last.node.valueEnd)}`;
    const at = comma ? eol : eol + 1;
    return `${head.slice(0, at)}${nl}${indent}${quoted}${comma ? ',' : ''}${head.slice(at)}`;
  }
  const at = last.node.valueEnd + (comma?.[0].length ?? 0);
  return `${text.slice(0, at)}${comma ? '' : ','}${nl}${indent}${quoted}${text.slice(at)}`;
}

function insertDependencies(text: string, file: string, values: string[]): string {
  const nodes = scanToml(text);
  const table = findNode(nodes, ['project']);
  if (!table) {
    throw new CliError('ERR_CONFIG', `${file} has no [project] table`, {
      where: file,
      hint: 'add a [project] table with name = "..." (or run `pyworkers init`)',
    });
  }
  const direct = nodes.filter(
    (n) => n.path.length === 2 && n.path[0] === 'project' && n.valueStart > table.valueStart,
  );
  const end = Math.max(table.valueEnd, ...direct.map((n) => n.valueEnd));
  const at = lineEnd(text, end);
  const nl = eolOf(text);
  const body = values.map((v) => `    ${JSON.stringify(v)},${nl}`).join('');
  return `${text.slice(0, at)}${nl}dependencies = [${nl}${body}]${text.slice(at)}`;
}

/** What an edit of `[project].dependencies` did. */
export interface DependencyEdit {
  text: string;
  added: string[];
  replaced: string[];
  removed: string[];
}

/**
 * Adds requirements to `[project].dependencies` (replacing one with the same name), keeping
 * every other byte of the file: comments, quoting, indentation and trailing commas.
 */
export function addDependencies(
  text: string,
  file: string,
  requirements: string[],
): DependencyEdit {
  const edit: DependencyEdit = { text, added: [], replaced: [], removed: [] };
  for (const req of requirements) {
    const key = parseRequirement(req).key;
    const deps = readDeps(edit.text, file);
    if (!deps) {
      edit.text = insertDependencies(edit.text, file, [req]);
      edit.added.push(req);
      continue;
    }
    const index = deps.elements.findIndex((e) => safeKey(e.value) === key);
    if (index >= 0) {
      const el = deps.elements[index]!.node;
      edit.text =
        edit.text.slice(0, el.valueStart) +
        quoteLike(edit.text, el, req) +
        edit.text.slice(el.valueEnd);
      edit.replaced.push(req);
    } else {
      edit.text = appendElement(edit.text, deps, req);
      edit.added.push(req);
    }
  }
  verify(edit.text, file);
  return edit;
}

/** Removes dependencies by name (PEP 503 normalised) from `[project].dependencies`. */
export function removeDependencies(text: string, file: string, names: string[]): DependencyEdit {
  const edit: DependencyEdit = { text, added: [], replaced: [], removed: [] };
  for (const name of names) {
    const key = normalizeName(name);
    const deps = readDeps(edit.text, file);
    const index = deps?.elements.findIndex((e) => safeKey(e.value) === key) ?? -1;
    if (!deps || index < 0) {
      const line = deps ? `:${deps.node.line}` : '';
      throw new CliError('ERR_USAGE', `"${name}" is not a dependency of this project`, {
        where: `${file}${line} ([project].dependencies)`,
        hint: `the dependencies are: ${deps?.elements.map((e) => e.value).join(', ') || '(none)'}`,
      });
    }
    edit.text = collapseEmpty(removeElement(edit.text, deps, index), file);
    edit.removed.push(deps.elements[index]!.value);
  }
  verify(edit.text, file);
  return edit;
}

/** `[\n]` left by removing the last element becomes `[]` (unless comments are inside). */
function collapseEmpty(text: string, file: string): string {
  const deps = readDeps(text, file);
  if (!deps || deps.elements.length > 0) return text;
  const inner = text.slice(deps.node.valueStart + 1, deps.node.valueEnd - 1);
  if (inner.trim() !== '') return text;
  return `${text.slice(0, deps.node.valueStart)}[]${text.slice(deps.node.valueEnd)}`;
}

function safeKey(requirement: string): string {
  try {
    return parseRequirement(requirement).key;
  } catch {
    return normalizeName(requirement.split(/[\s;[<>=!~@]/)[0] ?? requirement);
  }
}

function verify(text: string, file: string): void {
  try {
    parseToml(text);
  } catch (cause) {
    throw new CliError(
      'ERR_INTERNAL',
      `editing ${file} produced invalid TOML; it was not written`,
      {
        cause,
      },
    );
  }
}
