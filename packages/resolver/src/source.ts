// The seam between package sources (index clients, Pyodide's lock, local wheel directories)
// and the resolver. Sources list a project's files; the resolver picks versions.

/** One distribution file of a project, as a source lists it. */
export interface DistFile {
  /** The file name, e.g. `flask-3.1.0-py3-none-any.whl`. */
  filename: string;
  /** Absolute URL (`https:`, `http:` or `file:`) to download it from. */
  url: string;
  /** Known hashes by algorithm (lowercase hex), e.g. `{ sha256: '…' }`. */
  hashes: Record<string, string>;
  /** `Requires-Python` as the index states it (PEP 503 `data-requires-python`). */
  requiresPython?: string;
  /** PEP 592: false, true, or the reason string. */
  yanked: boolean | string;
  /** PEP 658/714: URL of the core metadata file, when the index offers one. */
  metadataUrl?: string;
  /** Hash of the metadata file, when given. */
  metadataHashes?: Record<string, string>;
  size?: number;
  /** Name of the source (index) that listed this file. */
  source: string;
  /** The version read from the file name by the source, when it could be read. */
  version?: string;
}

/** A project as one source lists it. */
export interface ProjectPage {
  /** PEP 503 normalised name. */
  name: string;
  files: DistFile[];
  source: string;
}

/** The parts of a distribution's core metadata the resolver needs. */
export interface CoreMetadata {
  name: string;
  version: string;
  /** `Requires-Dist` lines, unparsed PEP 508 strings (markers included). */
  requiresDist: string[];
  requiresPython?: string;
  providesExtra: string[];
}

/** A place packages come from: a PEP 503/691 index, a `file://` index, a wheel directory, Pyodide's lock. */
export interface PackageSource {
  /** A short name for messages and locks (the `[[tool.uv.index]]` name, or the URL). */
  readonly name: string;
  /** The index URL (or `pyodide-lock:` / directory URL) shown in errors and written to locks. */
  readonly url: string;
  /** The project's files, or null when this source does not have the project. */
  getProject(name: string): Promise<ProjectPage | null>;
  /** Core metadata of one file (PEP 658 file when offered, else read from the wheel). */
  getMetadata(file: DistFile): Promise<CoreMetadata>;
}
