import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker_thread entry is its own file: isolates load it by URL next to index.js.
  entry: { index: 'src/index.ts', 'worker/isolate-worker': 'src/worker/isolate-worker.ts' },
  format: ['esm'],
  target: 'node20',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  sourcemap: true,
});
