"""The worker: a small warm process (started by the pool with subprocess, never forked from the
trainer) that judges programs. It owns a zygote that forks the sandboxed children, drives each
child test by test over a socket, and compares what comes back with the expected outputs, which
only the worker holds. Talks to the pool over stdin/stdout with framed JSON (codec.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from rltf.execution.codec import ChannelClosed, ChannelTimeout, Conn, FdConn, ProtocolError
from rltf.execution.config import ExecutionConfig
from rltf.execution.isolation import SETUP_DONE

if TYPE_CHECKING:
    from rltf.records import Problem, Verdict

PROBLEM_CACHE = 256
# How long a fresh child may take to confirm its setup, independent of the program's own limits
# (its budget may be nearly spent when a crashed child is replaced): a late confirmation only
# shortens the test, which then times out on the program's clock; no confirmation at all is a
# sandbox failure, which the program cannot cause because none of its code has run yet.
SETUP_SECONDS = 10.0


class ZygoteFailure(Exception):
    """The zygote died or broke its protocol: the worker cannot go on (the pool replaces it)."""


_ZYGOTE_ERRORS = (ChannelClosed, ChannelTimeout, ProtocolError, OSError)


class SetupFailed(Exception):
    """A sandboxed child died, went silent or sent something other than ``SETUP_DONE`` before
    confirming its setup. No program code had run: the infrastructure failed."""


class ZygoteLink:
    """The worker's end of one zygote."""

    def __init__(
        self,
        cfg: ExecutionConfig,
        uid: int | None,
        sweeper_uid: int | None,
        scratch: str,
        preload: tuple[str, ...],
    ) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.pid = os.fork()
        if self.pid == 0:  # the zygote: forked before any job reached this process
            keep = theirs.fileno()  # nothing else: not the pool's pipes, not a sibling's socket
            os.closerange(3, keep)
            os.closerange(keep + 1, 1 << 16)
            from rltf.execution.zygote import zygote_main

            zygote_main(theirs, cfg, uid, sweeper_uid, scratch, preload)
        theirs.close()
        self.sock = ours
        self.conn = FdConn(ours)
        self.pending = False
        self.last_status: int | None = None
        header, _ = self.conn.recv(deadline=time.monotonic() + 120)
        if header.get("op") != "ready":
            raise RuntimeError(f"zygote failed to start: {header}")
        self.isolation: list[str] = list(header.get("isolation", []))
        self.warnings: list[str] = list(header.get("warnings", []))

    def spawn(self, program: str, cpu_seconds: float) -> int:
        """Fork a child; return the worker's end of its socket (non-blocking)."""
        try:
            self.conn.send({"op": "spawn", "cpu_seconds": cpu_seconds}, program.encode())
            header, _ = self.conn.recv(deadline=time.monotonic() + 30)
        except _ZYGOTE_ERRORS as e:
            raise ZygoteFailure(f"zygote lost while spawning: {type(e).__name__}: {e}") from e
        if header.get("op") != "spawned" or not self.conn.fds:
            raise ZygoteFailure(f"zygote did not spawn: {header}")
        fd = self.conn.fds.pop(0)
        os.set_blocking(fd, False)
        return fd

    def finish(self) -> None:
        try:
            self.conn.send({"op": "finish"})
        except _ZYGOTE_ERRORS as e:
            raise ZygoteFailure(f"zygote lost: {type(e).__name__}: {e}") from e
        self.pending = True

    def settle(self) -> int | None:
        """Read the reply to an earlier ``finish`` (the child is then dead and reaped)."""
        if self.pending:
            try:
                header, _ = self.conn.recv(deadline=time.monotonic() + 60)
            except _ZYGOTE_ERRORS as e:
                raise ZygoteFailure(f"zygote lost: {type(e).__name__}: {e}") from e
            if header.get("op") != "finished":
                raise ZygoteFailure(f"unexpected zygote reply {header}")
            self.pending = False
            status = header.get("status")
            self.last_status = status if type(status) is int else None
        return self.last_status

    def close(self) -> None:
        with contextlib.suppress(ZygoteFailure):
            self.settle()
        self.sock.close()
        os.waitpid(self.pid, 0)


class Child:
    """One sandboxed child process, seen from the worker."""

    def __init__(self, zygote: ZygoteLink, program: str, cpu_seconds: float) -> None:
        self.zygote = zygote
        self.fd = zygote.spawn(program, cpu_seconds)
        self.conn = Conn(self.fd)
        self.finished = False
        self.confirmed = False

    def request(
        self, header: dict[str, Any], payload: bytes, deadline: float, max_payload: int
    ) -> tuple[dict[str, Any], bytes]:
        """One command and its reply. The first also waits for the setup confirmation (raising
        :class:`SetupFailed`); every later failure is a channel error the judge blames on the
        program."""
        if not self.confirmed:
            self._await_setup(max(deadline, time.monotonic() + SETUP_SECONDS))
        self.conn.send(header, payload, deadline)
        return self.conn.recv(deadline, max_payload=max_payload, max_header=1 << 16)

    def _await_setup(self, deadline: float) -> None:
        """Read the child's first frame, sent by the zygote code after the last isolation step
        and before the harness reads a command: the program cannot have written it."""
        try:
            header, payload = self.conn.recv(deadline, max_payload=0, max_header=256)
        except ChannelClosed:
            status = self.finish(wait=True)
            raise SetupFailed(f"the sandbox setup failed ({describe_status(status)})") from None
        except ChannelTimeout:
            self.finish(wait=False)
            raise SetupFailed(f"the sandbox setup took over {SETUP_SECONDS:g} s") from None
        except ProtocolError as e:
            self.finish(wait=False)
            raise SetupFailed(f"the sandbox sent a malformed setup confirmation: {e}") from None
        if header != SETUP_DONE or payload:
            self.finish(wait=False)
            raise SetupFailed(f"the sandbox sent {header!r} instead of its setup confirmation")
        self.confirmed = True

    def finish(self, wait: bool) -> int | None:
        """Kill everything the program started. With ``wait``, return the child's wait status
        (otherwise the zygote's reply is read before the next spawn)."""
        if not self.finished:
            self.finished = True
            os.close(self.fd)
            self.zygote.finish()
        return self.zygote.settle() if wait else None


def describe_status(status: int | None) -> str:
    """A wait status in words, for error messages."""
    if status is None:
        return "exit status unknown"
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(sig).name}"
        return f"killed by signal {sig}"
    return f"wait status {status}"


class Worker:
    """Two zygotes: a lean one (standard library) and one that also preloads ``cfg.preload``
    (numpy). Forking and tearing down a process costs in proportion to its memory, and numpy
    triples it, so a program that does not mention a preloaded package gets the lean one (it
    can still import the package, just not for free)."""

    def __init__(
        self, cfg: ExecutionConfig, uid: int | None, sweeper_uid: int | None, scratch: str
    ) -> None:
        self.cfg = cfg
        self.lean = ZygoteLink(cfg, uid, sweeper_uid, os.path.join(scratch, "lean"), ())
        self.full = None
        if cfg.preload:
            self.full = ZygoteLink(
                cfg, uid, sweeper_uid, os.path.join(scratch, "full"), cfg.preload
            )
        zygotes = [z for z in (self.lean, self.full) if z is not None]
        self.isolation = [i for i in self.lean.isolation if all(i in z.isolation for z in zygotes)]
        self.warnings = list(dict.fromkeys(w for z in zygotes for w in z.warnings))
        self.problems: OrderedDict[str, Problem] = OrderedDict()

    def spawn(self, program: str, cpu_seconds: float) -> Child:
        full = self.full is not None and any(name in program for name in self.cfg.preload)
        for z in (self.lean, self.full):
            if z is not None:
                z.settle()
        zygote = self.full if full and self.full is not None else self.lean
        return Child(zygote, program, cpu_seconds)

    def judge(self, problem: Problem, program: str, mode: str) -> dict[str, Any]:
        from rltf.execution.judge import Judge  # imported after the zygotes were forked

        try:
            verdict = Judge(self, problem, program, mode).run()
        except ZygoteFailure:
            raise  # the worker cannot go on: the pool replaces it and retries the job
        except Exception as e:
            verdict = self._judge_failed(problem, e)
        return verdict.to_dict()

    def _judge_failed(self, problem: Problem, e: Exception) -> Verdict:
        """Fail closed when the trusted side broke on what a program sent (issue 17: a call
        returning a 5000-digit int made the judge's ``repr`` raise, which killed the worker and
        gave the program ``sandbox_error``). The program gets no pass and no escape from its
        reward; the traceback goes to stderr, since it is a judge bug to fix."""
        import traceback

        from rltf.records import ErrorInfo, TestResult, Verdict

        traceback.print_exc()
        message = f"the judge failed on this program's output ({type(e).__name__}: {e})"[:300]
        n = problem.num_tests
        return Verdict(
            "runtime_error",
            tests=(TestResult("runtime_error", 0.0, message),) * n,
            total=n,
            error=ErrorInfo("JudgeError", message, None, "global"),
            isolation=tuple(self.isolation),
            notes=("the judge raised on this program's output: a bug in rltf, please report",),
        )

    def close(self) -> None:
        for z in (self.lean, self.full):
            if z is not None:
                z.close()


def serve(pool: Conn) -> None:
    header, payload = pool.recv()
    if header.get("op") != "init":
        raise RuntimeError("expected an init frame")
    init = json.loads(payload)
    cfg = ExecutionConfig.from_dict(init["config"])
    for sub in ("lean", "full"):
        os.makedirs(os.path.join(init["scratch"], sub), mode=0o711, exist_ok=True)
    worker = Worker(cfg, init.get("uid"), init.get("sweeper_uid"), init["scratch"])
    pool.send({"op": "ready", "isolation": worker.isolation, "warnings": worker.warnings})
    try:
        while True:
            header, payload = pool.recv()
            if header.get("op") != "job":
                break
            job = json.loads(payload)
            key = header["key"]
            if job.get("problem") is not None:
                from rltf.records import Problem

                worker.problems[key] = Problem.from_dict(job["problem"], f"job {header['id']}")
            problem = worker.problems.get(key)
            if problem is None:
                pool.send({"op": "need_problem", "id": header["id"]})
                continue
            worker.problems.move_to_end(key)
            while len(worker.problems) > PROBLEM_CACHE:
                worker.problems.popitem(last=False)
            verdict = worker.judge(problem, job["program"], header.get("mode", "train"))
            pool.send({"op": "verdict", "id": header["id"]}, json.dumps(verdict).encode())
    finally:
        worker.close()


def main(parent_pid: int | None = None) -> None:
    """Entry point (``python -I -c ...``): the pool's pipes move to private descriptors so that
    nothing printed here (by test code, say) can corrupt the protocol."""
    if sys.platform == "linux":  # die with the pool thread that started us
        from rltf.execution.isolation import PR_SET_PDEATHSIG, prctl

        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if parent_pid is not None and os.getppid() != parent_pid:
            return  # the pool died before we could ask to die with it
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdout = sys.stderr
    with contextlib.suppress(ChannelClosed, KeyboardInterrupt):
        serve(Conn(rfd, wfd))


if __name__ == "__main__":
    main()
