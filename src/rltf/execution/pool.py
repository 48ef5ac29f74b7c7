"""The worker pool: N warm worker processes, futures, batch submission, crash recovery.

Each worker is a fresh interpreter started with ``subprocess`` (never a fork of the trainer, which
holds torch and a model: ~100 ms per fork and a copy of its memory). One thread per worker feeds
it jobs from a shared queue, so ``submit`` returns at once and the online loop can overlap
generation with execution. A worker that dies or hangs is killed (with its whole session), a new
one is started, and the job is retried once; a second failure is a ``sandbox_error`` verdict.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Literal

from rltf.execution.codec import ChannelClosed, ChannelTimeout, Conn, ProtocolError
from rltf.execution.config import ExecutionConfig
from rltf.records import ErrorInfo, Problem, TestResult, Verdict

log = logging.getLogger("rltf.execution")

Mode = Literal["train", "eval"]
_BOOT = (
    "import sys; sys.path.insert(0, {path!r}); from rltf.execution.worker import main; main({ppid})"
)
_KNOWN_PROBLEMS = 256  # the worker's problem cache size (worker.PROBLEM_CACHE)


class WorkerFailure(Exception):
    pass


@dataclass
class _Job:
    problem: Problem
    program: str
    mode: Mode
    future: Future[Verdict]


def _sandbox_error(problem: Problem, message: str) -> Verdict:
    n = problem.num_tests
    err = ErrorInfo("SandboxError", message, None, "global")
    return Verdict("sandbox_error", tests=(TestResult("sandbox_error"),) * n, total=n, error=err)


class _Slot:
    """One worker process and the thread that feeds it."""

    def __init__(self, pool: ExecutionPool, index: int) -> None:
        self.pool, self.index = pool, index
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Conn | None = None
        self.known: OrderedDict[str, None] = OrderedDict()
        self.ready = threading.Event()
        self.start_error: str | None = None
        self.jobs_done = 0
        self.thread = threading.Thread(target=self._loop, name=f"rltf-exec-{index}", daemon=True)

    def _loop(self) -> None:
        # Workers are started from this long-lived thread: they die with it (PR_SET_PDEATHSIG).
        try:
            self._start()
        except WorkerFailure as e:
            self.start_error = str(e)
        self.ready.set()
        while True:
            job = self.pool._queue.get()
            if job is None:
                break
            if job.future.set_running_or_notify_cancel():
                verdict = self._execute(job)
                job.future.set_result(verdict)
        self._stop()

    def _start(self) -> None:
        pool = self.pool
        uid = None if pool._uid_base is None else pool._uid_base + 2 * self.index
        scratch = os.path.join(pool._root, f"worker{self.index}")
        env = {"PATH": os.defpath, "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1"}
        env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        cmd = [sys.executable, "-I", "-c", _BOOT.format(path=pool._src, ppid=os.getpid())]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, start_new_session=True
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.conn = Conn(self.proc.stdout.fileno(), self.proc.stdin.fileno())
        self.known.clear()
        init = {
            "config": pool.config.to_dict(),
            "uid": uid,
            "sweeper_uid": None if uid is None else uid + 1,
            "scratch": scratch,
        }
        try:
            self.conn.send({"op": "init"}, json.dumps(init).encode())
            header, _ = self.conn.recv(deadline=time.monotonic() + 180)
        except (ChannelClosed, ChannelTimeout, ProtocolError, OSError) as e:
            self._kill()
            raise WorkerFailure(f"worker {self.index} failed to start: {type(e).__name__}") from e
        if header.get("op") != "ready":
            self._kill()
            raise WorkerFailure(f"worker {self.index} failed to start: {header}")
        pool._on_ready(header)

    def _execute(self, job: _Job) -> Verdict:
        error = "worker failure"
        for _attempt in range(2):
            try:
                if self.proc is None:
                    self._start()
                return self._exchange(job)
            except WorkerFailure as e:
                error = str(e)
                self._kill()
        log.warning("sandbox error on %s: %s", job.problem.id, error)
        return _sandbox_error(job.problem, error)

    def _exchange(self, job: _Job) -> Verdict:
        assert self.conn is not None
        with self.pool._lock:
            self.pool._jobs_started += 1
            jid = self.pool._jobs_started
        key, problem = self.pool._encoded(job.problem)
        send_problem = key not in self.known
        header = {"op": "job", "id": jid, "key": key, "mode": job.mode}
        cfg = self.pool.config
        deadline = time.monotonic() + cfg.timeout_per_program + cfg.worker_grace
        try:
            self.conn.send(header, _job_payload(job.program, problem if send_problem else None))
            while True:
                reply, payload = self.conn.recv(deadline)
                if reply.get("op") == "need_problem" and reply.get("id") == jid:
                    self.conn.send(header, _job_payload(job.program, problem))
                    continue
                if reply.get("op") == "verdict" and reply.get("id") == jid:
                    break
                raise ProtocolError(f"unexpected reply {reply}")
            verdict = Verdict.from_dict(json.loads(payload), f"worker {self.index}")
        except (ChannelClosed, ChannelTimeout, ProtocolError, OSError, ValueError) as e:
            raise WorkerFailure(f"worker {self.index}: {type(e).__name__}: {e}") from None
        self.known[key] = None
        self.known.move_to_end(key)
        while len(self.known) > _KNOWN_PROBLEMS:
            self.known.popitem(last=False)
        self.jobs_done += 1
        return verdict

    def _stop(self) -> None:
        if self.proc is None:
            return
        try:
            assert self.conn is not None
            self.conn.send({"op": "exit"})
            self.proc.wait(timeout=15)
        except (ChannelClosed, OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def _kill(self) -> None:
        """Kill the worker and its zygote (one session); their children die with them
        (PR_SET_PDEATHSIG), their strays at the next zygote's first sweep."""
        proc, self.proc, self.conn = self.proc, None, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()


def _job_payload(program: str, problem: dict[str, Any] | None) -> bytes:
    return json.dumps({"program": program, "problem": problem}).encode()


class ExecutionPool:
    """Sandboxed execution of programs against a problem's tests. Thread-safe; a context manager.

    >>> with ExecutionPool(workers=2) as pool:
    ...     verdicts = pool.run_batch([(problem, program), ...])
    """

    def __init__(self, workers: int | None = None, config: ExecutionConfig | None = None) -> None:
        self.config = config or ExecutionConfig()
        self.workers = workers or os.cpu_count() or 1
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be between 1 and 64, got {self.workers}")
        self._src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        _remove_stale_roots()
        self._root = tempfile.mkdtemp(prefix="rltf-exec-")
        os.chmod(self._root, 0o711)
        lock = os.path.join(self._root, "lock")  # held while alive (see _remove_stale_roots)
        self._root_lock = os.open(lock, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC)
        fcntl.flock(self._root_lock, fcntl.LOCK_EX)
        self._uid_base = _uid_base(self.config)
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._encodings: dict[int, tuple[Problem, str, dict[str, Any]]] = {}
        self._jobs_started = 0
        self._closed = False
        self.isolation: tuple[str, ...] = ()
        self._warned: set[str] = set()
        self._slots = [_Slot(self, i) for i in range(self.workers)]
        for slot in self._slots:
            slot.thread.start()
        for slot in self._slots:
            slot.ready.wait()
        errors = [s.start_error for s in self._slots if s.start_error]
        if len(errors) == len(self._slots):
            self.close()
            raise RuntimeError(f"no execution worker could start: {errors[0]}")

    def _on_ready(self, header: dict[str, Any]) -> None:
        with self._lock:
            self.isolation = tuple(header.get("isolation", ()))
            for w in header.get("warnings", ()):
                if w not in self._warned:
                    self._warned.add(w)
                    log.warning("execution sandbox: %s", w)

    def _encoded(self, problem: Problem) -> tuple[str, dict[str, Any]]:
        """A content key and the dict of a problem, computed once per Problem object."""
        with self._lock:
            hit = self._encodings.get(id(problem))
            if hit is not None and hit[0] is problem:
                return hit[1], hit[2]
            d = problem.to_dict()
            digest = hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]
            key = f"{problem.id}#{digest}"
            if len(self._encodings) > 4096:
                self._encodings.clear()
            self._encodings[id(problem)] = (problem, key, d)
            return key, d

    def submit(self, problem: Problem, program: str, mode: Mode = "train") -> Future[Verdict]:
        if self._closed:
            raise RuntimeError("the execution pool is closed")
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        future: Future[Verdict] = Future()
        self._queue.put(_Job(problem, program, mode, future))
        return future

    def run_batch(
        self, jobs: Sequence[tuple[Problem, str]], mode: Mode = "train", progress: bool = False
    ) -> list[Verdict]:
        """Run all jobs in parallel; verdicts in input order."""
        futures = [self.submit(p, program, mode) for p, program in jobs]
        if progress:
            from rltf.console import make_progress

            with make_progress(transient=True) as bar:
                task = bar.add_task("executing", total=len(futures), status="")
                for f in futures:
                    f.result()
                    bar.advance(task)
        return [f.result() for f in futures]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for _ in self._slots:
            self._queue.put(None)
        for slot in self._slots:
            slot.thread.join(timeout=60)
        while True:  # jobs submitted after close started: cancel
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.future.cancel()
        shutil.rmtree(self._root, ignore_errors=True)
        os.close(self._root_lock)

    def __enter__(self) -> ExecutionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove_stale_roots() -> None:
    """Remove scratch roots of pools that died without close() (a killed trainer). A live pool
    holds an exclusive lock on ``<root>/lock``; flock works across PID namespaces."""
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        lock = os.path.join(base, name, "lock")
        if not name.startswith("rltf-exec-") or not os.path.isfile(lock):
            continue
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive
        finally:
            os.close(fd)
        shutil.rmtree(os.path.join(base, name), ignore_errors=True)


_POOLS_IN_PROCESS = itertools.count()


def _uid_base(cfg: ExecutionConfig) -> int | None:
    """Two uids per worker (128 per pool), unique to this pool unless configured: derived from
    the process id and the number of pools this process started, so that two pools (even in one
    process) never sweep each other's sandboxes. Range: [2**30, 3 * 2**30)."""
    if sys.platform != "linux" or os.geteuid() != 0:
        return None
    if cfg.sandbox_uid_base is not None:
        return cfg.sandbox_uid_base
    slot = ((os.getpid() & 0xFFFFF) << 4) | (next(_POOLS_IN_PROCESS) & 0xF)
    return (1 << 30) + slot * 128
