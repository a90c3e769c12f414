#!/usr/bin/env node
// `ruff check` for the repo's Python through ruff's WebAssembly build, so `npm test` lints the
// SDK on a machine with neither Python nor a native ruff. Reads ../../ruff.toml (the file a
// native ruff reads too), prints `path:row:col: CODE message` per finding, exits 1 on any.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { parse } from 'smol-toml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { 'extend-exclude': exclude = [], ...settings } = parse(
  readFileSync(join(root, 'ruff.toml'), 'utf8'),
);
const skip = new Set(['.git', '.turbo', '__pycache__', ...exclude]);

function* pythonFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* pythonFiles(path);
    else if (entry.name.endsWith('.py') || entry.name.endsWith('.pyi')) yield path;
  }
}

const workspace = new Workspace(settings, PositionEncoding.Utf16);
let files = 0;
let findings = 0;
for (const path of pythonFiles(root)) {
  files++;
  for (const d of workspace.check(readFileSync(path, 'utf8'))) {
    findings++;
    const at = `${relative(root, path)}:${d.start_location.row}:${d.start_location.column}`;
    process.stdout.write(`${at}: ${d.code ?? 'syntax'} ${d.message}\n`);
  }
}
const summary = `ruff ${Workspace.version()}: ${files} Python files, ${findings} finding${findings === 1 ? '' : 's'}`;
if (findings > 0) {
  process.stderr.write(`${summary}; fix them (a native \`ruff check --fix\` reads ruff.toml)\n`);
  process.exit(1);
}
process.stdout.write(`${summary}\n`);
