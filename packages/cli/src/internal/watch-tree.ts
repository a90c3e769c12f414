// Watches a directory tree with one non-recursive watcher per directory. Node 20's recursive
// `fs.watch` on Linux watches each file by inode: a file replaced by a rename (an editor's
// atomic save, `sed -i`) is never reported again, so `pyworkers dev` stopped rebuilding after
// the first such save. A directory's own watcher reports every name created, renamed or changed
// in it, whatever its inode.
import { type FSWatcher, readdirSync, statSync, watch } from 'node:fs';
import { join, relative } from 'node:path';

/** A running tree watch. */
export interface TreeWatch {
  close(): void;
}

/**
 * Calls `onChange(rel)` for every file changed, created, renamed or removed under `root` (rel:
 * the path relative to `root`), in directories `enter(rel)` accepts. New directories are
 * watched as they appear; removed ones are dropped.
 */
export function watchTree(
  root: string,
  onChange: (rel: string) => void,
  enter: (rel: string) => boolean = () => true,
): TreeWatch {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const add = (dir: string): void => {
    if (closed || watchers.has(dir)) return;
    const rel = relative(root, dir);
    if (rel !== '' && !enter(rel)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        if (!name) return;
        const path = join(dir, String(name));
        let isDir = false;
        try {
          isDir = statSync(path).isDirectory();
        } catch {
          // Removed (or renamed away): a watched directory among them is dropped.
          const gone = watchers.get(path);
          if (gone) {
            gone.close();
            watchers.delete(path);
          }
        }
        if (isDir) add(path);
        onChange(relative(root, path));
      });
    } catch {
      return; // gone before we could watch it
    }
    w.on('error', () => {
      w.close();
      watchers.delete(dir);
    });
    watchers.set(dir, w);
    let entries: import('node:fs').Dirent[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) add(join(dir, e.name));
  };

  add(root);
  return {
    close() {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
