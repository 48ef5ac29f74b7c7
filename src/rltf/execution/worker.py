"""The worker: a small warm process (started by the pool with subprocess, never forked from the
trainer) that judges programs. It owns a zygote that forks the sandboxed children, drives each
child test by test over a socket, and compares what comes back with the expected outputs, which
only the worker holds. Talks to the pool over stdin/stdout with framed JSON (codec.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from collections import OrderedDict
from typing import Any

from rltf.execution.codec import ChannelClosed, ChannelTimeout, Conn, FdConn, ProtocolError
from rltf.execution.config import ExecutionConfig
from rltf.execution.judge import Judge
from rltf.records import Problem

PROBLEM_CACHE = 256


class Child:
    """One sandboxed child process, seen from the worker."""

    def __init__(self, worker: Worker, program: str, cpu_seconds: float) -> None:
        self.worker = worker
        worker.settle()
        worker.zconn.send({"op": "spawn", "cpu_seconds": cpu_seconds}, program.encode())
        header, _ = worker.zconn.recv(deadline=time.monotonic() + 30)
        if header.get("op") != "spawned" or not worker.zconn.fds:
            raise RuntimeError(f"zygote did not spawn: {header}")
        fd = worker.zconn.fds.pop(0)
        os.set_blocking(fd, False)
        self.fd = fd
        self.conn = Conn(fd)
        self.finished = False

    def request(
        self, header: dict[str, Any], payload: bytes, deadline: float, max_payload: int
    ) -> tuple[dict[str, Any], bytes]:
        self.conn.send(header, payload, deadline)
        return self.conn.recv(deadline, max_payload=max_payload, max_header=1 << 16)

    def finish(self, wait: bool) -> int | None:
        """Kill everything the program started. With ``wait``, return the child's wait status
        (else the zygote's reply is read before the next spawn)."""
        if not self.finished:
            self.finished = True
            os.close(self.fd)
            self.worker.zconn.send({"op": "finish"})
            self.worker.pending_finish = True
        return self.worker.settle() if wait else None


class Worker:
    def __init__(self, cfg: ExecutionConfig, uid: int | None, sweeper_uid: int | None,
                 scratch: str) -> None:
        self.cfg = cfg
        self.scratch = scratch
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.zygote_pid = os.fork()
        if self.zygote_pid == 0:  # the zygote: forked before any job reached this process
            ours.close()
            from rltf.execution.zygote import zygote_main

            zygote_main(theirs, cfg, uid, sweeper_uid, scratch)
        theirs.close()
        self.zsock = ours
        self.zconn = FdConn(ours)
        self.pending_finish = False
        self.last_status: int | None = None
        header, _ = self.zconn.recv(deadline=time.monotonic() + 120)
        if header.get("op") != "ready":
            raise RuntimeError(f"zygote failed to start: {header}")
        self.isolation: list[str] = list(header.get("isolation", []))
        self.warnings: list[str] = list(header.get("warnings", []))
        self.problems: OrderedDict[str, Problem] = OrderedDict()

    def settle(self) -> int | None:
        """Read the zygote's reply to an earlier ``finish`` (its child is dead and reaped)."""
        if self.pending_finish:
            header, _ = self.zconn.recv(deadline=time.monotonic() + 60)
            if header.get("op") != "finished":
                raise RuntimeError(f"unexpected zygote reply {header}")
            self.pending_finish = False
            status = header.get("status")
            self.last_status = status if type(status) is int else None
        return self.last_status

    def spawn(self, program: str, cpu_seconds: float) -> Child:
        return Child(self, program, cpu_seconds)

    def judge(self, problem: Problem, program: str, mode: str) -> dict[str, Any]:
        verdict = Judge(self, problem, program, mode).run()
        return verdict.to_dict()

    def close(self) -> None:
        try:
            self.settle()
            self.zsock.close()
            os.waitpid(self.zygote_pid, 0)
        except (OSError, ChannelClosed, ChannelTimeout, ProtocolError, RuntimeError):
            pass


def serve(pool: Conn) -> None:
    header, payload = pool.recv()
    if header.get("op") != "init":
        raise RuntimeError("expected an init frame")
    init = json.loads(payload)
    cfg = ExecutionConfig.from_dict(init["config"])
    os.makedirs(init["scratch"], mode=0o711, exist_ok=True)
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


def main() -> None:
    """Entry point (``python -I -c ...``): the pool's pipes move to private descriptors so that
    nothing printed here (by test code, say) can corrupt the protocol."""
    if sys.platform == "linux":  # die with the pool thread that started us
        from rltf.execution.isolation import PR_SET_PDEATHSIG, prctl

        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() == 1:
            return
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    sys.stdout = sys.stderr
    try:
        serve(Conn(rfd, wfd))
    except (ChannelClosed, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main()
