import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BundleManifest, decodeBundle, isBundle } from '@pyworkers/isolate';
import { inspectSnapshot, type SnapshotInfo } from '@pyworkers/snapshot';
import { CliError } from '../errors.js';
import type { Command } from '../internal/command.js';

/** What `snapshot inspect` reports. */
export interface SnapshotReport {
  path: string;
  kind: 'bundle' | 'snapshot';
  bytes: number;
  /** The bundle's manifest without its file table, when the input is a bundle. */
  bundle?: Omit<BundleManifest, 'files'> & { files: number; filesBytes: number };
  snapshot: SnapshotInfo | null;
}

/**
 * Reads a bundle (`.pwb`) or a bare snapshot and reports its metadata and sizes.
 * @example const report = inspectFile('.pyworkers/hello.pwb');
 */
export function inspectFile(path: string): SnapshotReport {
  if (!existsSync(path)) {
    throw new CliError('ERR_USAGE', `${path} does not exist`, {
      where: path,
      hint: 'pass a bundle made by `pyworkers build` (.pyworkers/<name>.pwb) or a snapshot file',
    });
  }
  const bytes = new Uint8Array(readFileSync(path));
  if (isBundle(bytes)) {
    const bundle = decodeBundle(bytes, path);
    const { files, ...manifest } = bundle.manifest;
    return {
      path,
      kind: 'bundle',
      bytes: bytes.length,
      bundle: {
        ...manifest,
        files: files.length,
        filesBytes: files.reduce((n, f) => n + f.size, 0),
      },
      snapshot: bundle.snapshot ? inspectSnapshot(bundle.snapshot) : null,
    };
  }
  try {
    return { path, kind: 'snapshot', bytes: bytes.length, snapshot: inspectSnapshot(bytes) };
  } catch (cause) {
    throw new CliError('ERR_USAGE', `${path} is neither a pyworkers bundle nor a snapshot`, {
      where: path,
      hint: `pass a .pwb bundle or a snapshot file (${(cause as Error).message})`,
      cause,
    });
  }
}

const mib = (n: number): string => `${(n / 1048576).toFixed(2)} MiB`;
const storedAs = (region: BundleManifest['filesRegion']): string =>
  region?.codec === 'brotli' ? `, ${mib(region.size)} on disk, brotli` : '';

function describe(r: SnapshotReport): string {
  const lines = [`${r.path}: ${r.kind}, ${mib(r.bytes)}`];
  if (r.bundle) {
    lines.push(
      `  worker       ${r.bundle.name} (main module ${r.bundle.mainModule})`,
      `  files        ${r.bundle.files} (${mib(r.bundle.filesBytes)}${storedAs(r.bundle.filesRegion)})`,
      `  vars         ${Object.keys(r.bundle.vars).join(', ') || '(none)'}`,
      `  built for    Pyodide ${r.bundle.pyodideVersion}, SDK ${r.bundle.sdkVersion}`,
    );
  }
  const s = r.snapshot;
  if (!s) {
    lines.push('  snapshot     none');
    return lines.join('\n');
  }
  const m = s.meta;
  const pct = (n: number): string => `${((100 * n) / Math.max(1, s.pages.total)).toFixed(0)}%`;
  lines.push(
    `  snapshot     ${m.kind}, format ${s.formatVersion}, codec ${s.codec}${s.codecAvailable ? '' : ' (not available in this Node)'}, ${mib(s.fileBytes)} on disk (${(100 * s.ratios.fileToHeap).toFixed(0)}% of the heap)`,
    `  heap         ${mib(s.heapBytes)}, sha256 ${s.heapSha256.slice(0, 16)}…`,
    `  pages        ${s.pages.total} x ${s.pageSize} B: ${pct(s.pages.zero)} zero, ${pct(s.pages.literal)} literal, ${pct(s.pages.reference)} from the reference`,
    ...(s.delta
      ? [
          `  delta        against ${s.referenceSha256?.slice(0, 16)}… (${mib(s.referenceBytes ?? 0)})`,
        ]
      : []),
    `  runtime      Pyodide ${m.pyodideVersion} (build ${m.pyodideBuildId}), Python ${m.pythonVersion}`,
    `  hash seed    ${m.hashSeed ?? 'random'}`,
    `  modules      ${m.importedModules.length} imported at snapshot time`,
    `  libraries    ${m.loadedLibraries.length} loaded`,
  );
  const app = Object.entries(m.app);
  if (app.length)
    lines.push(`  app          ${app.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  return lines.join('\n');
}

/** `pyworkers snapshot inspect <bundle-or-snapshot> [--json]` */
export const snapshotInspectCommand = {
  name: 'snapshot inspect',
  summary: 'show what is inside a bundle or a snapshot',
  usage: 'pyworkers snapshot inspect <bundle-or-snapshot> [--json]',
  options: {},
  async run(ctx, _values, positionals) {
    const [target] = positionals;
    if (!target) {
      throw new CliError('ERR_USAGE', 'snapshot inspect needs a file', {
        where: 'pyworkers snapshot inspect',
        hint: 'e.g. pyworkers snapshot inspect .pyworkers/hello.pwb',
      });
    }
    const report = inspectFile(resolve(ctx.cwd, target));
    const json = {
      ...report,
      snapshot: report.snapshot
        ? { ...report.snapshot, meta: { ...report.snapshot.meta, jsRefs: undefined } }
        : null,
    };
    ctx.print(json, describe(report));
  },
} satisfies Command;
