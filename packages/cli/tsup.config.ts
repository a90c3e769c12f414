import { defineConfig } from 'tsup';

export default defineConfig({
  // parked-launcher is its own file: isolate host processes import it by URL.
  entry: ['src/index.ts', 'src/bin.ts', 'src/parked-launcher.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
});
