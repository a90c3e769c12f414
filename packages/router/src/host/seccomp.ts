// The seccomp layer under sandboxed host processes: a classic-BPF filter that bubblewrap loads
// (`--seccomp FD`) right before it runs the host's node, so it holds for the whole process and
// everything it starts. No npm library wraps seccomp or Landlock (both need a native addon), and
// bwrap takes a compiled filter, so the few instructions are written here. Only x86-64 for now:
// syscall numbers differ per architecture, and on others the layer is left out (said in the log).
//
// A host process never needs these; each is a step of known escapes from a compromised process:
// - new namespaces (unshare, setns, clone with CLONE_NEW*; clone3, whose flags a filter cannot
//   read, answers ENOSYS so that libc falls back to clone): user namespaces are the usual way to
//   reach kernel code that needs privileges, and a new mount namespace would undo bwrap's view;
// - mounts (mount, umount2, pivot_root, chroot, the new mount API: open_tree ... mount_setattr);
// - other processes' memory (ptrace, process_vm_readv/writev);
// - kernel attack surface with a history of exploits (bpf, perf_event_open, userfaultfd,
//   keyctl/add_key/request_key, io_uring is kept: libuv may use it);
// - file handles that skip path checks (open_by_handle_at: the "shocker" container escape);
// - the machine itself (kexec, modules, reboot, swap, clock, hostname, acct, quotactl, iopl).
// A denied call fails with EPERM (the process goes on); a syscall of another ABI (32-bit int 0x80
// or x32, which would skip the table) kills the process.

/** The syscalls refused, by x86-64 number. */
export const DENIED_SYSCALLS_X64: Readonly<Record<string, number>> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  unshare: 272,
  setns: 308,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  chroot: 161,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  open_by_handle_at: 304,
  name_to_handle_at: 303,
  kexec_load: 246,
  kexec_file_load: 320,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  reboot: 169,
  swapon: 167,
  swapoff: 168,
  acct: 163,
  quotactl: 179,
  settimeofday: 164,
  clock_settime: 227,
  clock_adjtime: 305,
  adjtimex: 159,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
};

const CLONE_X64 = 56;
const CLONE3_X64 = 435;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME. */
const CLONE_NEW_ANY =
  0x00020000 |
  0x02000000 |
  0x04000000 |
  0x08000000 |
  0x10000000 |
  0x20000000 |
  0x40000000 |
  0x00000080;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const EPERM = 1;
const ENOSYS = 38;

// linux/filter.h, linux/seccomp.h
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const JSET_K = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LOW = 16; // little-endian: the low 32 bits of args[0] (clone's flags)

type Insn = [code: number, jt: number, jf: number, k: number];

/**
 * The filter as bwrap's `--seccomp FD` reads it (an array of `struct sock_filter`), or undefined
 * where this architecture has no table here.
 */
export function seccompFilter(arch: string = process.arch): Uint8Array | undefined {
  if (arch !== 'x64') return undefined;
  const denied = Object.values(DENIED_SYSCALLS_X64);
  // 0-5: right ABI or kill; 6..: one test per denied number; then clone3, clone, the returns.
  const list = 6;
  const after = list + denied.length;
  const allow = after + 5;
  const eperm = after + 6;
  const prog: Insn[] = [
    [LD_W_ABS, 0, 0, OFF_ARCH],
    [JEQ_K, 1, 0, AUDIT_ARCH_X86_64],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, OFF_NR],
    [JGE_K, 0, 1, X32_SYSCALL_BIT],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    ...denied.map((nr, i): Insn => [JEQ_K, eperm - (list + i) - 1, 0, nr]),
    [JEQ_K, 0, 1, CLONE3_X64], // after
    [RET_K, 0, 0, RET_ERRNO | ENOSYS],
    [JEQ_K, 0, allow - (after + 2) - 1, CLONE_X64],
    [LD_W_ABS, 0, 0, OFF_ARG0_LOW],
    [JSET_K, eperm - (after + 4) - 1, 0, CLONE_NEW_ANY],
    [RET_K, 0, 0, RET_ALLOW], // allow
    [RET_K, 0, 0, RET_ERRNO | EPERM], // eperm
  ];
  const out = new Uint8Array(prog.length * 8);
  const view = new DataView(out.buffer);
  prog.forEach(([code, jt, jf, k], i) => {
    view.setUint16(i * 8, code, true);
    view.setUint8(i * 8 + 2, jt);
    view.setUint8(i * 8 + 3, jf);
    view.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return out;
}
