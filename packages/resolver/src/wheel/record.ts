// A wheel's RECORD: CSV rows of `path,algorithm=urlsafe-b64-digest,size`.
import { ResolverError } from '../errors.js';

export interface RecordRow {
  path: string;
  /** e.g. `sha256`; absent for RECORD itself and signature files. */
  algorithm?: string;
  /** urlsafe base64 without padding, as written. */
  digest?: string;
  size?: number;
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parses RECORD. @param label names the wheel in errors */
export function parseRecord(text: string, label: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    const [path = '', hash = '', size = ''] = parseCsvLine(raw);
    if (!path)
      throw new ResolverError('ERR_WHEEL', `${label}: RECORD has a row without a path: "${raw}"`);
    const row: RecordRow = { path };
    if (hash) {
      const eq = hash.indexOf('=');
      if (eq <= 0)
        throw new ResolverError(
          'ERR_WHEEL',
          `${label}: RECORD hash "${hash}" of ${path} is malformed`,
        );
      row.algorithm = hash.slice(0, eq).toLowerCase();
      row.digest = hash.slice(eq + 1);
    }
    if (size) row.size = Number(size);
    rows.push(row);
  }
  return rows;
}
