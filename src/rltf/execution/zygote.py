"""The zygote: a clean, warm process that forks one sandboxed child per program.

It is forked by the worker at start-up, before the worker has seen any job, so its memory holds
no expected output that a child could find by scanning its own copy. It preloads the modules
programs use, prepares the isolation (network and mount namespaces, tmpfs, seccomp BPF, Landlock
rules), then serves two requests from the worker, strictly in turn:

* ``spawn``  -> fork a child on a fresh socket pair; reply ``spawned`` with the worker's end
                attached (SCM_RIGHTS);
* ``finish`` -> SIGKILL every process of the sandbox user (:func:`isolation.sweep`), reap them all
                (the zygote is a child subreaper, so double-forked daemons come back to it), remove
                the working directory; reply ``finished`` with the child's wait status.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rltf.execution import isolation
from rltf.execution.codec import Conn, encode_frame
from rltf.execution.config import ExecutionConfig
from rltf.execution.harness import Harness
from rltf.execution.isolation import SETUP_FAILED

# Standard-library modules competitive and MBPP-style programs import most; preloading them makes
# their import free in every child. The rest is importable too (through the remapped sys.path),
# at its usual cost. Modules that map extra shared libraries (decimal, hashlib, datetime, random,
# unicodedata...) are left out on purpose: every mapping makes each fork and exit slower, which
# every program would pay.
PRELOAD_STDLIB = [
    "abc",
    "bisect",
    "collections",
    "collections.abc",
    "contextlib",
    "copy",
    "dataclasses",
    "enum",
    "functools",
    "heapq",
    "io",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "re",
    "string",
    "sys",
    "textwrap",
    "threading",
    "time",
    "types",
    "typing",
    "weakref",
]


@dataclass
class Plan:
    """What every child applies (decided once, by probing, at start-up)."""

    cfg: ExecutionConfig
    uid: int | None  # sandbox user (None: not root, no privilege drop)
    zygote_pid: int
    path_fds: dict[str, int] = field(default_factory=dict)
    landlock: isolation.Landlock | None = None
    seccomp: isolation.SeccompProgram | None = None
    active: list[str] = field(default_factory=list)


def preload(names: tuple[str, ...]) -> list[str]:
    failed = []
    for name in (*PRELOAD_STDLIB, *names):
        try:
            importlib.import_module(name)
        except Exception:
            failed.append(name)
    if "numpy" in sys.modules:  # touch lazily initialised numpy submodules
        for sub in ("numpy.linalg", "numpy.random", "numpy.fft"):
            try:
                importlib.import_module(sub)
            except Exception:
                failed.append(sub)
    return failed


def run_child(sock_fd: int, program: str, workdir: str, cpu_seconds: float, plan: Plan) -> None:
    """In the forked child: apply every isolation step, then serve the harness. Never returns."""
    try:
        os.setsid()
        os.chdir(workdir)
        out_fd, err_fd = os.memfd_create("stdout", 0), os.memfd_create("stderr", 0)
        ll_fds = plan.landlock.fds() if plan.landlock else []
        workdir_fd = os.open(".", isolation.O_PATH | os.O_DIRECTORY)
        keep = {sock_fd, out_fd, err_fd, workdir_fd, *plan.path_fds.values(), *ll_fds}
        _close_all_but(keep)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        os.close(null)
        isolation.apply_rlimits(plan.cfg, cpu_seconds)
        if plan.uid is not None:
            isolation.drop_privileges(plan.uid)
        isolation.die_with_parent(plan.zygote_pid)
        isolation.no_new_privs()
        if plan.landlock is not None:
            plan.landlock.restrict(workdir_fd)
        for fd in (*ll_fds, workdir_fd):
            os.close(fd)
        if plan.seccomp is not None:
            plan.seccomp.install()
        harness = Harness(sock_fd, program, out_fd, err_fd, plan.cfg.max_output_bytes)
        # The last step of the setup, before the first command (hence before any program code)
        # is read: the worker waits for this frame, so an exit status (71 included), a signal
        # or garbage after it can only be the program's, never "the sandbox failed".
        Conn(sock_fd).send(isolation.SETUP_DONE)
    except BaseException:
        os._exit(SETUP_FAILED)
    try:
        harness.serve()
    finally:
        os._exit(0)


def _close_all_but(keep: set[int]) -> None:
    lo = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(lo, fd)
        lo = fd + 1
    os.closerange(lo, 1 << 16)


class Zygote:
    def __init__(
        self,
        conn_sock: socket.socket,
        cfg: ExecutionConfig,
        uid: int | None,
        sweeper_uid: int | None,
        scratch: str,
        preload: tuple[str, ...],
    ) -> None:
        self.preload = preload
        self.sock = conn_sock
        self.conn = Conn(conn_sock.fileno())
        self.cfg, self.uid, self.sweeper_uid, self.scratch = cfg, uid, sweeper_uid, scratch
        self.jobs = 0
        self.workdir = os.path.join(scratch, "work")
        self.warnings: list[str] = []
        self.plan = Plan(cfg, uid, os.getpid())

    # -- start-up -------------------------------------------------------------------------

    def setup(self) -> None:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
        active = ["fork-worker"]
        try:
            isolation.set_subreaper()
            active.append("subreaper")
        except OSError as e:
            self.warnings.append(f"no child subreaper ({e})")
        if self.uid is not None:
            got = isolation.enter_private_namespaces(self.scratch, self.cfg.scratch_mb)
            active += got
            if "netns" not in got:
                self.warnings.append("no network namespace: programs may reach the network")
            if "tmpfs" not in got:
                self.warnings.append("no private tmpfs: working directories are on the host disk")
        failed = preload(self.preload)
        if failed:
            self.warnings.append(f"could not preload {', '.join(failed)}")
        if self.uid is not None:
            self.plan.path_fds = isolation.open_unreadable_sys_path()
            isolation.remap_sys_path(self.plan.path_fds)
            active += ["setuid", "rlimits", "uid-sweep", "pgroup-kill"]
            self.sweep()
        else:
            active += ["rlimits", "pgroup-kill"]
            self.warnings.append(
                "not running as root: programs run as the trainer's user, so they can read its "
                "files, and only the process group is killed after each program"
            )
        if self.cfg.landlock:
            try:
                readable = isolation.default_readable()
                readable += isolation.package_dirs(self.cfg.preload)
                self.plan.landlock = isolation.Landlock.prepare(readable)
                active.append("landlock")
            except OSError as e:
                self.warnings.append(f"no Landlock ({e}): programs can read any readable file")
        if self.cfg.seccomp:
            try:
                self.plan.seccomp = isolation.build_seccomp()
                active.append("seccomp")
            except OSError as e:
                self.warnings.append(f"no seccomp filter ({type(e).__name__}: {e})")
        self._probe(active)
        self.plan.active = active
        # The children's environment, set once here (the zygote itself never reads it).
        os.environ.clear()
        os.environ.update(
            PATH="/usr/local/bin:/usr/bin:/bin",
            HOME=self.workdir,
            TMPDIR=self.workdir,
            LANG="C.UTF-8",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        # Objects that exist now are never collected in the children: without this, the first
        # garbage collection in a child touches (and so copies) every page of the heap.
        gc.freeze()

    def _probe(self, active: list[str]) -> None:
        """Fork one child that applies setuid, Landlock and seccomp; drop what fails there."""
        if self.uid is None and self.plan.landlock is None and self.plan.seccomp is None:
            return
        probe_dir = os.path.join(self.scratch, "probe")
        os.makedirs(probe_dir, exist_ok=True)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                fd = os.open(probe_dir, isolation.O_PATH | os.O_DIRECTORY)
                if self.uid is not None:
                    try:
                        isolation.drop_privileges(self.uid)
                    except OSError:
                        code |= 1
                isolation.no_new_privs()
                if self.plan.landlock is not None:
                    try:
                        self.plan.landlock.restrict(fd)
                    except OSError:
                        code |= 2
                if self.plan.seccomp is not None:
                    try:
                        self.plan.seccomp.install()
                    except OSError:
                        code |= 4
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 7
        os.rmdir(probe_dir)
        if code & 1:
            self.warnings.append("setuid to the sandbox user failed: programs run as root")
            self.uid = self.plan.uid = None
            for name in ("setuid", "uid-sweep"):
                if name in active:
                    active.remove(name)
        if code & 2 and self.plan.landlock is not None:
            self.warnings.append("Landlock could not be applied: programs can read any file")
            self.plan.landlock = None
            active.remove("landlock")
        if code & 4 and self.plan.seccomp is not None:
            self.warnings.append("the seccomp filter could not be installed")
            self.plan.seccomp = None
            active.remove("seccomp")

    # -- serving --------------------------------------------------------------------------

    def serve(self) -> None:
        self.conn.send({"op": "ready", "isolation": self.plan.active, "warnings": self.warnings})
        child = None
        while True:
            try:
                header, payload = self.conn.recv()
            except EOFError:
                break
            op = header.get("op")
            if op == "spawn" and child is None:
                child = self.spawn(payload.decode(), float(header["cpu_seconds"]))
            elif op == "finish" and child is not None:
                status = self.finish(child)
                child = None
                self.conn.send({"op": "finished", "status": status})
            else:
                break
        if child is not None:
            self.finish(child)
        self.sweep()

    def spawn(self, program: str, cpu_seconds: float) -> tuple[int, str]:
        self.jobs += 1
        workdir = self.workdir  # one job at a time: a fixed path, so the environment is fixed
        _clear_workdir(workdir)
        os.mkdir(workdir, 0o700)
        if self.uid is not None:
            os.chown(workdir, self.uid, self.uid)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            ours.close()
            self.sock.close()
            run_child(theirs.fileno(), program, workdir, cpu_seconds, self.plan)
        theirs.close()
        frame = encode_frame({"op": "spawned", "pid": pid})
        socket.send_fds(self.sock, [frame], [ours.fileno()])
        ours.close()
        return pid, workdir

    def finish(self, child: tuple[int, str]) -> int | None:
        """Kill and reap everything the program started, then remove its working directory."""
        pid, workdir = child
        status = None
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # our unreaped child: no pid-reuse race
        if self.uid is not None:
            self.sweep()
        else:
            _kill_group(pid)
        deadline = time.monotonic() + 10.0
        while True:
            try:
                got, st = os.waitpid(-1, os.WNOHANG if self.uid is None else 0)
            except ChildProcessError:
                break
            if got == pid:
                status = st
            if got == 0:  # degraded mode: orphans may keep forking; kill what we can see
                if time.monotonic() > deadline:
                    break
                _kill_group(pid)
                time.sleep(0.001)
        _rmtree(workdir)
        return status

    def sweep(self) -> None:
        if self.uid is not None and self.sweeper_uid is not None:
            isolation.sweep(self.uid, self.sweeper_uid)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _rmtree(path: str) -> None:
    """Remove a working directory the program filled, whatever its shape, without importing
    shutil (which maps zlib, bz2 and lzma into the zygote).

    Iterative and descriptor-relative, holding one directory open at a time: a program can nest
    directories as deep as its tmpfs allows (issue 17: 1500 levels made the recursive
    ``os.walk`` raise RecursionError, and paths beyond PATH_MAX defeat any path-based walk), and
    a zygote that dies here costs the *next* job a ``sandbox_error``. Best effort: what cannot
    be removed is moved aside by :func:`_clear_workdir`."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)  # a file or a link, not a directory
        return
    # One entry per level above the open one: its name, its parent's identity (to check that
    # ".." leads back where we came from) and the parent's subdirectories still to visit.
    above: list[tuple[str, tuple[int, int], list[str]]] = []
    try:
        pending = _clear_files(fd)
        while True:
            if pending:
                sub = pending.pop()
                child = _open_subdir(fd, sub)
                if child is None:
                    return  # neither openable nor removable: _clear_workdir moves it aside
                st = os.fstat(fd)
                above.append((sub, (st.st_dev, st.st_ino), pending))
                os.close(fd)
                fd = child
                pending = _clear_files(fd)
                continue
            if not above:
                break
            parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            name, identity, pending = above.pop()
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != identity or not _try(os.rmdir, name, fd):
                return  # moved under us, or not removable: touch nothing else
    except OSError:
        return
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(path)


def _clear_files(fd: int) -> list[str]:
    """Unlink every non-directory in ``fd``; return the names of its subdirectories."""
    subdirs = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            else:
                _try(os.unlink, entry.name, fd)
    return subdirs


def _open_subdir(fd: int, name: str) -> int | None:
    """Open a subdirectory, making it accessible first if the program removed its permissions
    (it owns it; the zygote may not be root); None when that fails."""
    for attempt in range(2):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except PermissionError:
            if attempt == 0:
                _try(lambda n, dir_fd: os.chmod(n, 0o700, dir_fd=dir_fd), name, fd)
        except OSError:
            break
    return None


def _try(op: Any, name: str, dir_fd: int) -> bool:
    try:
        op(name, dir_fd=dir_fd)
    except OSError:
        return False
    return True


def _clear_workdir(path: str) -> None:
    """Leave ``path`` free for a fresh working directory: remove it, or move it aside."""
    if not os.path.lexists(path):
        return
    _rmtree(path)
    if os.path.lexists(path):
        os.rename(path, f"{path}.stale-{time.monotonic_ns()}")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def zygote_main(
    sock: socket.socket,
    cfg: ExecutionConfig,
    uid: int | None,
    sweeper_uid: int | None,
    scratch: str,
    preload: tuple[str, ...],
) -> None:
    """Entry point in the freshly forked zygote. Never returns."""
    try:
        z = Zygote(sock, cfg, uid, sweeper_uid, scratch, preload)
        z.setup()
        z.serve()
    except BaseException as e:  # report to the worker's stderr, then die
        with contextlib.suppress(OSError):
            os.write(2, f"rltf zygote: {type(e).__name__}: {e}\n".encode())
    finally:
        os._exit(0)
