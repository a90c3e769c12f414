// A read-only Emscripten file system whose files are views into one shared buffer (the bundle's
// bytes, or the SDK's): mounting it costs one tree walk, with no per-file copy and nothing
// unpacked to disk. It only uses Emscripten's public FS interface (`pyodide.FS`).
import type { MountSet } from '../internal/protocol.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const ENOENT = 44;
const EROFS = 69;
const EINVAL = 28;
const O_ACCMODE = 3;

interface Dir {
  kind: 'dir';
  children: Map<string, Dir | File>;
}
interface File {
  kind: 'file';
  data: Uint8Array;
}
interface FsNode {
  mode: number;
  id: number;
  entry: Dir | File;
  node_ops: object;
  stream_ops: object;
}
interface FsStream {
  node: FsNode;
  flags: number;
  position: number;
}
/** The members of Emscripten's FS this file system calls. */
export interface EmscriptenFS {
  createNode(parent: FsNode | null, name: string, mode: number, dev: number): FsNode;
  mkdirTree(path: string): void;
  mount(type: object, opts: object, mountpoint: string): unknown;
  unmount(mountpoint: string): void;
  isDir(mode: number): boolean;
  ErrnoError: new (errno: number) => Error;
}

function buildTree(set: MountSet): Dir {
  const root: Dir = { kind: 'dir', children: new Map() };
  for (const [path, offset, size] of set.entries) {
    const parts = path.split('/').filter((p) => p !== '' && p !== '.');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      let next = dir.children.get(part);
      if (!next) {
        next = { kind: 'dir', children: new Map() };
        dir.children.set(part, next);
      }
      if (next.kind !== 'dir') throw new TypeError(`${path}: a file is in the way of a directory`);
      dir = next;
    }
    dir.children.set(parts.at(-1)!, {
      kind: 'file',
      data: set.data.subarray(offset, offset + size),
    });
  }
  return root;
}

/**
 * Mounts `set` read-only at `mountPoint`. Writes fail with EROFS, which Python reports as
 * `OSError: [Errno 69] Read-only file system` (and importlib ignores when caching bytecode).
 */
export function mountReadOnly(FS: EmscriptenFS, mountPoint: string, set: MountSet): void {
  const mtime = Date.now();
  const readOnly = (): never => {
    throw new FS.ErrnoError(EROFS);
  };
  const getattr = (node: FsNode) => {
    const size = node.entry.kind === 'file' ? node.entry.data.length : 4096;
    const date = new Date(mtime);
    return {
      dev: 7,
      ino: node.id,
      mode: node.mode,
      nlink: 1,
      uid: 0,
      gid: 0,
      rdev: 0,
      size,
      atime: date,
      mtime: date,
      ctime: date,
      blksize: 4096,
      blocks: Math.ceil(size / 4096),
    };
  };
  const llseek = (stream: FsStream, offset: number, whence: number): number => {
    const size = stream.node.entry.kind === 'file' ? stream.node.entry.data.length : 0;
    const base = whence === 1 ? stream.position : whence === 2 ? size : 0;
    const pos = base + offset;
    if (pos < 0) throw new FS.ErrnoError(EINVAL);
    return pos;
  };
  const dirNodeOps = {
    getattr,
    setattr: readOnly,
    lookup(parent: FsNode, name: string): FsNode {
      const entry = (parent.entry as Dir).children.get(name);
      if (!entry) throw new FS.ErrnoError(ENOENT);
      return makeNode(parent, name, entry);
    },
    readdir: (node: FsNode) => ['.', '..', ...(node.entry as Dir).children.keys()],
    mknod: readOnly,
    rename: readOnly,
    unlink: readOnly,
    rmdir: readOnly,
    symlink: readOnly,
  };
  const fileNodeOps = { getattr, setattr: readOnly };
  const fileStreamOps = {
    open(stream: FsStream) {
      if ((stream.flags & O_ACCMODE) !== 0) throw new FS.ErrnoError(EROFS);
    },
    read(
      stream: FsStream,
      buffer: Uint8Array,
      offset: number,
      length: number,
      position: number,
    ): number {
      const data = (stream.node.entry as File).data;
      if (position >= data.length) return 0;
      const n = Math.min(data.length - position, length);
      buffer.set(data.subarray(position, position + n), offset);
      return n;
    },
    write: readOnly,
    llseek,
  };
  const makeNode = (parent: FsNode | null, name: string, entry: Dir | File): FsNode => {
    const mode = entry.kind === 'dir' ? S_IFDIR | 0o555 : S_IFREG | 0o444;
    const node = FS.createNode(parent, name, mode, 0);
    node.entry = entry;
    node.node_ops = entry.kind === 'dir' ? dirNodeOps : fileNodeOps;
    node.stream_ops = entry.kind === 'dir' ? { llseek } : fileStreamOps;
    return node;
  };
  const root = buildTree(set);
  FS.mkdirTree(mountPoint);
  FS.mount({ mount: () => makeNode(null, '/', root) }, {}, mountPoint);
}
