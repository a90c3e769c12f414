import { defineConfig } from 'tsup';

export default defineConfig({
  // The host process entry is its own file: ChildHost forks it by path next to index.js.
  entry: { index: 'src/index.ts', 'host/host-process': 'src/host/host-process.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
});
