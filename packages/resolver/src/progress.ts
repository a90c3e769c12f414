/** Progress of a sync, for a CLI to draw (see `syncProject`'s `onProgress`). */
export type SyncProgressEvent =
  | { type: 'resolve-start' }
  | { type: 'resolve-done'; packages: number; ms: number }
  | { type: 'download-start'; name: string; version: string; url: string; total?: number }
  | { type: 'download-progress'; name: string; bytes: number; total?: number }
  | { type: 'download-done'; name: string; bytes: number; cached: boolean }
  | { type: 'install-done'; packages: number; ms: number };
