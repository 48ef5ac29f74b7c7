"""Linux isolation primitives used by the zygote (root, once) and the sandboxed child (per job).

Everything expensive is prepared once in the zygote: the seccomp program is compiled to BPF,
the directories the child may read are opened as O_PATH descriptors. A child then spends a few
system calls on rlimits, setuid, Landlock and seccomp. Each primitive reports failure by raising
``OSError``; the zygote probes them at start-up and records what works (``Verdict.isolation``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import resource
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

from rltf.execution.config import ExecutionConfig

_libc: Any = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
_NS_FLAGS = (
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, PR_SET_CHILD_SUBREAPER = 1, 38, 22, 36
SECCOMP_MODE_FILTER = 2
O_PATH = getattr(os, "O_PATH", 0o10000000)
SETUP_FAILED = 71  # exit status of a child whose isolation could not be applied
# The header a sandboxed child sends on its channel once its isolation is complete and before any
# program code runs. Only a child that dies or goes silent *before* this frame is a sandbox
# failure; every later exit status or signal (71 included) is the program's (issue 17).
SETUP_DONE = {"op": "setup_done"}


def _check(ret: int, what: str) -> int:
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return ret


def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


# --------------------------------------------------------------------------------------------
# zygote: namespaces and scratch space (once per worker)


def enter_private_namespaces(scratch: str, size_mb: int) -> list[str]:
    """Move the calling (root) process into a new network namespace (no interfaces up: no
    network at all) and a private mount namespace with a size-limited tmpfs at ``scratch``."""
    active: list[str] = []
    try:
        _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
        active.append("netns")
    except OSError:
        pass
    try:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount private")
        opts = f"size={size_mb}m,nr_inodes=16384,mode=0711".encode()
        flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _check(_libc.mount(b"tmpfs", scratch.encode(), b"tmpfs", flags, opts), "mount tmpfs")
        active.append("tmpfs")
    except OSError:
        pass
    return active


def set_subreaper() -> None:
    """Orphans of the sandbox are re-parented to the caller (which reaps them), not to init."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def sweep(uid: int, sweeper_uid: int) -> None:
    """SIGKILL every process of the sandbox user ``uid``, from root, without forking.

    kill(-1) reaches every process the caller may signal. With real uid ``sweeper_uid``,
    effective uid ``uid`` and saved uid 0, that is exactly the processes of ``uid`` (and of
    ``sweeper_uid``, which nothing else uses), while no sandbox process may signal the caller
    (the check is on the caller's *real and saved* uids). The saved uid 0 lets us return to root.
    One kill(-1) suffices: a process with SIGKILL pending cannot fork."""
    os.setresuid(sweeper_uid, uid, 0)
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
    finally:
        os.setresuid(0, 0, 0)


# --------------------------------------------------------------------------------------------
# child: limits and privileges


def apply_rlimits(cfg: ExecutionConfig, cpu_seconds: float) -> None:
    mb = 1 << 20
    cpu = max(1, int(cpu_seconds + 0.999))
    limits = [
        (resource.RLIMIT_AS, cfg.memory_mb * mb),
        (resource.RLIMIT_STACK, cfg.stack_mb * mb),
        (resource.RLIMIT_FSIZE, cfg.max_file_mb * mb),
        (resource.RLIMIT_NOFILE, cfg.max_open_files),
        (resource.RLIMIT_NPROC, cfg.max_processes),
        (resource.RLIMIT_CORE, 0),
    ]
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    # The soft CPU limit sends SIGXCPU (a timeout); the hard one, a second later, SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:  # pragma: no cover - kernel guarantees this
        raise OSError(errno.EPERM, "setuid did not take effect")


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL when the zygote dies (set after setuid: a credential change clears it)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(70)


def no_new_privs() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def open_unreadable_sys_path() -> dict[str, int]:
    """O_PATH descriptors for sys.path entries an unprivileged user could not traverse (this
    interpreter lives under /root, mode 700). After setuid the child imports through
    ``/proc/self/fd/N``: the magic link skips the path walk through /root."""
    fds: dict[str, int] = {}
    for entry in sys.path:
        if entry and os.path.isdir(entry) and not _world_traversable(entry):
            fds[entry] = os.open(entry, O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            os.set_inheritable(fds[entry], True)
    return fds


def remap_sys_path(fds: dict[str, int]) -> None:
    """Point sys.path, and the ``__path__`` of packages already imported (their submodules are
    found there, not on sys.path), at the descriptors. Done once in the zygote (root reads the
    same paths); children inherit the descriptors under the same numbers."""

    def remap(path: str) -> str:
        for prefix, fd in fds.items():
            if path == prefix or path.startswith(prefix + os.sep):
                return f"/proc/self/fd/{fd}" + path[len(prefix) :]
        return path

    sys.path[:] = [remap(p) for p in sys.path]
    for module in list(sys.modules.values()):
        paths = getattr(module, "__path__", None)
        if type(paths) is list:
            paths[:] = [remap(p) if type(p) is str else p for p in paths]
    sys.path_importer_cache.clear()


def _world_traversable(path: str) -> bool:
    path = os.path.abspath(path)
    while True:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


# --------------------------------------------------------------------------------------------
# seccomp: a deny list compiled once with libseccomp (pyseccomp), loaded with one prctl


# Syscalls that reach other processes' memory or the kernel's rarely used attack surface.
# Most need capabilities the sandbox user lacks anyway; denying them is defence in depth.
SECCOMP_DENY = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsmount",
    "open_tree",
    "move_mount",
    "kexec_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


@dataclass
class SeccompProgram:
    """A compiled BPF program kept alive in the zygote, installed by each child."""

    bpf: bytes
    _buf: Any = field(default=None, repr=False)
    _prog: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._buf = ctypes.create_string_buffer(self.bpf, len(self.bpf))
        self._prog = _SockFprog(len(self.bpf) // 8, ctypes.cast(self._buf, ctypes.c_void_p))

    def install(self) -> None:
        """Requires no_new_privs (or CAP_SYS_ADMIN)."""
        ret = _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0)
        _check(ret, "prctl(PR_SET_SECCOMP)")


def build_seccomp() -> SeccompProgram:
    """Compile the filter in a throwaway child (so that neither libseccomp nor pyseccomp is mapped
    into the zygote). Raises OSError where pyseccomp or libseccomp is missing."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.write(w, _compile_seccomp())
            code = 0
        except BaseException:
            pass
        os._exit(code)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 1 << 16):
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    bpf = b"".join(chunks)
    if status != 0 or not bpf or len(bpf) % 8:
        raise OSError(errno.ENOSYS, "pyseccomp/libseccomp could not build a filter")
    return SeccompProgram(bpf)


def _compile_seccomp() -> bytes:
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    import pyseccomp as sc

    f = sc.SyscallFilter(sc.ALLOW)
    for name in SECCOMP_DENY:
        with contextlib.suppress(OSError, ValueError):  # unknown on this kernel/architecture
            f.add_rule(sc.ERRNO(errno.EPERM), name)
    # clone3 passes its flags in memory seccomp cannot read: make glibc fall back to clone
    # (ENOSYS, not EPERM, or thread creation fails), whose flags we can check.
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in _NS_FLAGS:
        f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    # No sockets but AF_UNIX (socketpair, multiprocessing); the network namespace is empty anyway.
    f.add_rule(sc.ERRNO(errno.EAFNOSUPPORT), "socket", sc.Arg(0, sc.NE, 1))
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


# --------------------------------------------------------------------------------------------
# Landlock: the child may read the interpreter, the system libraries and the preloaded
# packages, write only its working directory, open no TCP connection and signal no process
# outside its own tree.

_SYS_LANDLOCK_CREATE, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT = 444, 445, 446
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_RULE_PATH_BENEATH = 1


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: unavailable). x86-64 syscall numbers."""
    if sys.platform != "linux" or os.uname().machine not in ("x86_64", "aarch64"):
        return 0
    ret = _libc.syscall(_SYS_LANDLOCK_CREATE, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    return max(ret, 0)


def default_readable() -> list[str]:
    paths = ["/usr", "/lib", "/lib64", "/bin", "/etc", sys.base_prefix]
    paths += ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"]
    return [p for p in paths if os.path.exists(p)]


@dataclass
class Landlock:
    """Read-only rules prepared in the zygote (O_PATH descriptors, opened while still root)."""

    abi: int
    read_fds: list[tuple[int, bool]]  # (fd, is_dir)

    @classmethod
    def prepare(cls, paths: list[str]) -> Landlock:
        abi = landlock_abi()
        if abi <= 0:
            raise OSError(errno.ENOSYS, "Landlock is not available")
        fds = []
        for p in dict.fromkeys(paths):
            fd = os.open(p, O_PATH | os.O_CLOEXEC)
            fds.append((fd, os.path.isdir(p)))
        return cls(abi, fds)

    def fds(self) -> list[int]:
        return [fd for fd, _ in self.read_fds]

    def restrict(self, workdir_fd: int) -> None:
        """Apply to the calling process (after no_new_privs); inherited by all its children."""
        abi = self.abi
        fs_all = (1 << 13) - 1
        if abi >= 2:
            fs_all |= _FS_REFER
        if abi >= 3:
            fs_all |= _FS_TRUNCATE
        if abi >= 5:
            fs_all |= _FS_IOCTL_DEV
        file_rw = _FS_READ_FILE | _FS_WRITE_FILE | (_FS_TRUNCATE if abi >= 3 else 0)
        attr = _RulesetAttr(fs_all, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
        size = 24 if abi >= 6 else 16 if abi >= 4 else 8
        ruleset = _check(
            _libc.syscall(_SYS_LANDLOCK_CREATE, ctypes.byref(attr), size, 0), "landlock_create"
        )
        try:
            rules = [
                (fd, (_FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR) if is_dir else file_rw)
                for fd, is_dir in self.read_fds
            ]
            rules.append((workdir_fd, fs_all))
            for fd, access in rules:
                rule = _PathBeneath(access, fd)
                ret = _libc.syscall(
                    _SYS_LANDLOCK_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0
                )
                _check(ret, "landlock_add_rule")
            _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT, ruleset, 0), "landlock_restrict_self")
        finally:
            os.close(ruleset)


def package_dirs(names: tuple[str, ...]) -> list[str]:
    """Directories of the given packages (and their bundled ``<name>.libs``), without importing."""
    import importlib.util

    out = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for d in (spec.submodule_search_locations or []) if spec else []:
            out.append(d)
            libs = os.path.join(os.path.dirname(d), f"{name}.libs")
            if os.path.isdir(libs):
                out.append(libs)
    return out
