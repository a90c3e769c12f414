#!/usr/bin/env node
// The README's Layout table must match the tree: every package, app, example worker and tooling
// folder has a row, and every row names a folder that exists. Run by `npm run lint`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## Layout'),
  readme.indexOf('\n## ', readme.indexOf('## Layout') + 1),
);
// First cell of each table row: `folder`.
const rows = [...section.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1].replace(/\/$/, ''));

// A folder counts when it holds what makes it one (a stray directory left by a tool does not).
const marker = {
  packages: ['package.json'],
  apps: ['package.json'],
  tooling: ['package.json'],
  'apps/edge/workers': ['pyproject.toml', 'wrangler.toml'],
};
const folders = Object.entries(marker).flatMap(([parent, files]) =>
  readdirSync(join(root, parent), { withFileTypes: true })
    .filter((d) => d.isDirectory() && files.some((f) => existsSync(join(root, parent, d.name, f))))
    .map((d) => `${parent}/${d.name}`),
);

const missing = folders.filter((f) => !rows.includes(f));
const gone = rows.filter((r) => !existsSync(join(root, r)));
for (const f of missing)
  console.error(`README.md Layout: no row for ${f}; add one saying what it holds`);
for (const r of gone)
  console.error(`README.md Layout: ${r} is not in the tree; drop or fix its row`);
if (missing.length + gone.length > 0) process.exit(1);
console.log(`README layout: ${rows.length} rows match the tree`);
