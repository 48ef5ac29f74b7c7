"""The pool: futures, ordering, worker replacement and retry, degraded mode, clean shutdown, leaks."""

from __future__ import annotations

import logging
import os
import signal
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from rltf.execution import ExecutionConfig, ExecutionPool
from rltf.execution import pool as pool_module
from rltf.records import Problem

CFG = ExecutionConfig(timeout_per_test=2.0, timeout_per_program=4.0)
ECHO = Problem.from_dict(
    {
        "id": "echo",
        "prompt": "",
        "tests": {"type": "stdio", "cases": [{"input": "7\n", "output": "7\n"}]},
    }
)
CALL = Problem.from_dict(
    {
        "id": "one",
        "prompt": "",
        "tests": {"type": "call", "fn_name": "f", "cases": [{"args": [], "expected": 1}]},
    }
)


def processes(pids: list[int]) -> list[int]:
    return [p for p in pids if Path(f"/proc/{p}").exists()]


def children_of(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        out += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


def test_futures_and_batch_order() -> None:
    with ExecutionPool(workers=2, config=CFG) as pool:
        assert pool.workers == 2
        fut = pool.submit(ECHO, "print(input())")
        assert isinstance(fut, Future)
        programs = [f"print({i + 100})" if i % 3 else "print(input())" for i in range(12)]
        verdicts = pool.run_batch([(ECHO, p) for p in programs])
        assert [v.outcome for v in verdicts] == [
            "passed" if i % 3 == 0 else "failed" for i in range(12)
        ]
        assert fut.result().outcome == "passed"
        with pytest.raises(ValueError):
            pool.submit(ECHO, "print(7)", mode="test")  # type: ignore[arg-type]


def test_killed_worker_is_replaced_and_the_job_retried() -> None:
    with ExecutionPool(workers=1, config=CFG) as pool:
        old = pool._slots[0].proc
        assert old is not None
        fut = pool.submit(ECHO, "import time\ntime.sleep(0.5)\nprint(input())")
        time.sleep(0.2)
        os.killpg(old.pid, signal.SIGKILL)  # the worker and its zygotes die mid-job
        assert fut.result(timeout=60).outcome == "passed"  # retried on a fresh worker
        new = pool._slots[0].proc
        assert new is not None and new.pid != old.pid
        assert pool.submit(ECHO, "print(input())").result().outcome == "passed"


def test_second_failure_is_a_sandbox_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with ExecutionPool(workers=1, config=CFG) as pool:
        calls = []

        def broken(self: object, job: object) -> None:
            calls.append(1)
            raise pool_module.WorkerFailure("simulated infrastructure failure")

        monkeypatch.setattr(pool_module._Slot, "_exchange", broken)
        v = pool.submit(CALL, "def f(): return 1").result(timeout=120)
        assert v.outcome == "sandbox_error" and len(calls) == 2
        assert v.error is not None and "simulated" in v.error.message
        monkeypatch.undo()
        assert pool.submit(CALL, "def f(): return 1").result(timeout=120).outcome == "passed"


def test_degraded_mode_warns_once_and_records_isolation(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pool_module, "_uid_base", lambda cfg: None)
    with (
        caplog.at_level(logging.WARNING, logger="rltf.execution"),
        ExecutionPool(workers=2, config=CFG) as pool,
    ):
        v = pool.submit(ECHO, "print(input())").result()
    assert v.outcome == "passed"
    assert "setuid" not in v.isolation and "rlimits" in v.isolation
    warnings = [r.message for r in caplog.records if "not running as root" in r.message]
    assert len(warnings) == 1


def test_clean_shutdown() -> None:
    fds_before = len(os.listdir("/proc/self/fd"))
    pool = ExecutionPool(workers=2, config=CFG)
    workers = [s.proc.pid for s in pool._slots if s.proc is not None]
    zygotes = [z for w in workers for z in children_of(w)]
    root = Path(pool._root)
    assert root.is_dir() and len(zygotes) == 4  # lean + numpy zygote per worker
    pool.run_batch([(ECHO, "print(input())")] * 10)
    pool.close()
    pool.close()  # idempotent
    assert processes(workers + zygotes) == []
    assert not root.exists()
    assert len(os.listdir("/proc/self/fd")) == fds_before
    with pytest.raises(RuntimeError):
        pool.submit(ECHO, "print(7)")


@pytest.mark.slow
def test_no_leaks_after_10000_programs() -> None:
    """10,000 trivial programs: no worker replaced, no stray or zombie process, no descriptor or
    working directory left behind, in the pool's processes or in ours."""
    fds_before = len(os.listdir("/proc/self/fd"))
    with ExecutionPool(workers=2, config=CFG) as pool:
        workers = [s.proc.pid for s in pool._slots if s.proc is not None]
        zygotes = [z for w in workers for z in children_of(w)]

        def fd_counts() -> list[int]:
            return [len(os.listdir(f"/proc/{p}/fd")) for p in workers + zygotes]

        pool.run_batch([(CALL, "def f(): return 1")] * 20)
        fds_pool = fd_counts()
        jobs = [(CALL, "def f(): return 1"), (ECHO, "print(input())")] * 5000
        verdicts = pool.run_batch(jobs)
        assert all(v.outcome == "passed" for v in verdicts)
        assert [s.proc.pid for s in pool._slots if s.proc is not None] == workers
        assert fd_counts() == fds_pool
        assert [c for z in zygotes for c in children_of(z)] == []  # every child reaped
        for z in zygotes:  # the working directory is gone (seen through the zygote's mounts)
            for base in Path(f"/proc/{z}/root{pool._root}").glob("worker*/*"):
                assert not (base / "work").exists()
        root = Path(pool._root)
    assert not root.exists()
    assert processes(workers + zygotes) == []
    assert children_of(os.getpid()) == []
    assert len(os.listdir("/proc/self/fd")) == fds_before


def test_stale_scratch_roots_are_removed_live_ones_kept() -> None:
    import fcntl
    import tempfile

    base = Path(tempfile.gettempdir())
    stale, live = base / "rltf-exec-test-stale", base / "rltf-exec-test-live"
    for d in (stale, live):
        (d / "worker0").mkdir(parents=True, exist_ok=True)
        (d / "lock").touch()
    fd = os.open(live / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a pool that is still running (maybe in another namespace)
    try:
        with ExecutionPool(workers=1, config=CFG):
            pass
        assert not stale.exists() and live.exists()
    finally:
        os.close(fd)
        import shutil

        shutil.rmtree(live, ignore_errors=True)
