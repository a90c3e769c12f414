import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';

/** The file wrangler reads local secrets from; pyworkers reads the same one. */
export const DEV_VARS_FILE = '.dev.vars';

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

function unquote(raw: string, file: string, line: number): string {
  const q = raw[0];
  if (q !== '"' && q !== "'") return raw.replace(/\s+#.*$/, '');
  if (raw.length < 2 || raw[raw.length - 1] !== q) {
    throw new CliError('ERR_CONFIG', `unclosed ${q} quote`, {
      where: `${file}:${line}`,
      hint: `close the value with ${q}`,
    });
  }
  const inner = raw.slice(1, -1);
  // Double quotes take \n, \t, \" and \\ escapes as dotenv files do; single quotes are literal.
  return q === "'"
    ? inner
    : inner.replace(/\\([nt"\\])/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}

/** Parses dotenv text (`KEY=value`, `#` comments, quotes) into secrets. */
export function parseDevVars(text: string, file = DEV_VARS_FILE): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    const m = LINE.exec(raw);
    if (!m) {
      throw new CliError('ERR_CONFIG', `"${raw.trim()}" is not a KEY=value line`, {
        where: `${file}:${i + 1}`,
        hint: 'write one secret per line as NAME=value (quote values with spaces or #)',
      });
    }
    out[m[1]!] = unquote(m[2]!, file, i + 1);
  });
  return out;
}

/** The project's local secrets from `.dev.vars`, or undefined when it has none. */
export function readDevVars(projectDir: string): Record<string, string> | undefined {
  const file = join(projectDir, DEV_VARS_FILE);
  return existsSync(file) ? parseDevVars(readFileSync(file, 'utf8'), file) : undefined;
}
