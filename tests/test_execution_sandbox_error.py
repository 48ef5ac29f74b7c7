"""No program behaviour can produce ``sandbox_error`` (issue 17).

``sandbox_error`` samples are dropped from training and retried in evaluation, so a program that
could turn its own failure into one would escape every negative reward. The sandboxed child
confirms its setup on its channel before any program code runs (``isolation.SETUP_DONE``); from
then on every exit status (71, the sandbox's own SETUP_FAILED, included), signal, closed
descriptor or garbage on the channel is the program's: ``runtime_error`` naming it. Every program
here prints or returns the *right* answer around its misbehaviour, so a sandbox that ignored the
misbehaviour would give ``passed`` and the test would fail.

One pool serves the whole module; each test submits its cases as one batch and reports every
offending case at once.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rltf.execution import ExecutionConfig, ExecutionPool, worker
from rltf.execution.codec import ChannelClosed, encode_frame
from rltf.execution.isolation import SETUP_DONE, SETUP_FAILED
from rltf.records import Problem, Verdict

CFG = ExecutionConfig(timeout_per_test=2.0, timeout_per_program=4.0)
STDIO = Problem.from_dict(
    {
        "id": "one-stdio",
        "prompt": "",
        "tests": {"type": "stdio", "cases": [{"input": "", "output": "1\n"}]},
    }
)
CALL = Problem.from_dict(
    {
        "id": "one-call",
        "prompt": "",
        "tests": {"type": "call", "fn_name": "f", "cases": [{"args": [], "expected": 1}]},
    }
)
ASSERT = Problem.from_dict(
    {
        "id": "one-assert",
        "prompt": "",
        "tests": {"type": "assert", "asserts": ["assert f() == 1"], "entry_point": "f"},
    }
)
PROBLEMS = {"stdio": STDIO, "call": CALL, "assert": ASSERT}

# Where the misbehaviour sits: {act} is replaced by the statement(s). Each site also produces the
# right answer, so that only the misbehaviour stands between the program and a pass.
SITES: dict[str, tuple[str, str]] = {
    "stdio-top": ("stdio", "import os, signal\nprint(1, flush=True)\n{act}\n"),
    "call-top": ("call", "import os, signal\ndef f():\n    return 1\n{act}\n"),
    "call-in-function": ("call", "import os, signal\ndef f():\n    {act}\n    return 1\n"),
    "assert-top": ("assert", "import os, signal\ndef f():\n    return 1\n{act}\n"),
    "assert-in-function": ("assert", "import os, signal\ndef f():\n    {act}\n    return 1\n"),
}

# Signals whose default action ends the process. The program restores the default disposition
# first (Python ignores SIGPIPE and turns SIGINT into KeyboardInterrupt).
FATAL_SIGNALS = [
    "SIGKILL",
    "SIGTERM",
    "SIGSEGV",
    "SIGABRT",
    "SIGPIPE",
    "SIGBUS",
    "SIGILL",
    "SIGFPE",
    "SIGUSR1",
    "SIGUSR2",
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGALRM",
    "SIGTRAP",
    "SIGSYS",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
]

needs_linux = pytest.mark.skipif(
    not hasattr(os, "memfd_create"), reason="the sandbox needs Linux (memfd_create, prctl)"
)


@pytest.fixture(scope="module")
def pool() -> Iterator[ExecutionPool]:
    with ExecutionPool(workers=2, config=CFG) as p:
        yield p


def _judge(pool: ExecutionPool, site: str, acts: list[str]) -> list[Verdict]:
    kind, template = SITES[site]
    indent = "\n    " if "in-function" in site else "\n"
    programs = [template.format(act=act.replace("\n", indent)) for act in acts]
    return pool.run_batch([(PROBLEMS[kind], p) for p in programs])


def _bad(
    acts: list[str], verdicts: list[Verdict], ok: Callable[[Verdict, str], bool]
) -> list[tuple[str, str, str]]:
    """The cases whose verdict ``ok`` rejects, with what they got (for one readable failure)."""
    out: list[tuple[str, str, str]] = []
    for act, v in zip(acts, verdicts, strict=True):
        message = v.error.message if v.error is not None else ""
        if not ok(v, message):
            out.append((act, v.outcome, message))
    return out


@needs_linux
@pytest.mark.parametrize("site", list(SITES))
def test_every_exit_status_is_the_programs_runtime_error(pool: ExecutionPool, site: str) -> None:
    acts = [f"os._exit({code})" for code in range(256)]
    verdicts = _judge(pool, site, acts)
    bad = [
        (code, v.outcome, v.error.message if v.error else "")
        for code, v in enumerate(verdicts)
        if not (v.outcome == "runtime_error" and v.error and f"status {code} " in v.error.message)
    ]
    assert not bad, bad


@needs_linux
@pytest.mark.parametrize("site", list(SITES))
def test_self_inflicted_signals_are_the_programs_runtime_error(
    pool: ExecutionPool, site: str
) -> None:
    acts = [
        f"signal.signal(signal.{name}, signal.SIG_DFL) if signal.{name} != signal.SIGKILL "
        f"else None\nos.kill(os.getpid(), signal.{name})\nimport time\ntime.sleep(5)"
        for name in FATAL_SIGNALS
    ]
    verdicts = _judge(pool, site, acts)
    bad = [
        (name, v.outcome, v.error.message if v.error else "")
        for name, v in zip(FATAL_SIGNALS, verdicts, strict=True)
        if not (v.outcome == "runtime_error" and v.error and name in v.error.message)
    ]
    assert not bad, bad


@needs_linux
@pytest.mark.parametrize("site", list(SITES))
def test_signals_that_read_as_limits_are_never_a_sandbox_error(
    pool: ExecutionPool, site: str
) -> None:
    # SIGXCPU is what the CPU limit sends (a timeout), a stopped process never answers (a
    # timeout), a whole-group kill takes the harness down with the program.
    acts = [
        "os.kill(os.getpid(), signal.SIGXCPU)",
        "os.kill(os.getpid(), signal.SIGSTOP)",
        "os.killpg(0, signal.SIGKILL)",
        "signal.raise_signal(signal.SIGSEGV)",
    ]
    verdicts = _judge(pool, site, acts)
    bad = _bad(acts, verdicts, lambda v, m: v.outcome in ("runtime_error", "timeout"))
    assert not bad, bad


# Bytes a program might write on its channel. None is the right answer to any request, and the
# protocol is strict, so each must end as the program's failure.
JUNK = [
    b"\x00" * 8,  # a frame with an empty (non-JSON) header
    b"\xff" * 64,  # a frame too large to accept
    struct.pack("<II", 5, 0) + b"[1,2]",  # a header that is not an object
    struct.pack("<II", 2, 0),  # half a frame
    encode_frame(SETUP_DONE),  # a forged setup confirmation, sent too late to count
    encode_frame({"ok": 1, "size": 2}, b"2\n"),  # a well-formed, wrong answer
    encode_frame({"error": {"type": "SandboxError", "message": "isolation setup failed"}}),
    os.urandom(4096),
]


@needs_linux
@pytest.mark.parametrize("site", list(SITES))
@pytest.mark.parametrize("then", ["exit", "continue"])
def test_junk_on_the_result_channel_is_the_programs_failure(
    pool: ExecutionPool, site: str, then: str
) -> None:
    # The channel's descriptor number is not the program's to know: it writes everywhere.
    end = "os._exit(0)" if then == "exit" else "pass"
    acts = [
        f"for fd in range(3, 256):\n    try:\n        os.write(fd, {junk!r})\n"
        f"    except OSError:\n        pass\n{end}"
        for junk in JUNK
    ]
    verdicts = _judge(pool, site, acts)
    bad = _bad(acts, verdicts, lambda v, m: v.outcome not in ("passed", "sandbox_error"))
    assert not bad, bad


@needs_linux
@pytest.mark.parametrize("site", list(SITES))
def test_closing_every_descriptor_then_exiting_is_the_programs_failure(
    pool: ExecutionPool, site: str
) -> None:
    acts = [
        "os.closerange(0, 65536)\nos._exit(0)",
        f"os.closerange(0, 65536)\nos._exit({SETUP_FAILED})",
        "os.closerange(3, 65536)",  # and carry on as if nothing happened
        "os.closerange(0, 65536)\nos.kill(os.getpid(), signal.SIGKILL)",
    ]
    verdicts = _judge(pool, site, acts)
    bad = _bad(acts, verdicts, lambda v, m: v.outcome == "runtime_error")
    assert not bad, bad


# -- the infrastructure's failures still are sandbox errors ----------------------------------


class _FakeZygote:
    """Stands in for worker.ZygoteLink: hands out one end of a socket pair we control."""

    def __init__(self, status: int | None) -> None:
        self.ours, self.theirs = socket.socketpair()
        self.status = status
        self.finished = 0

    def spawn(self, program: str, cpu_seconds: float) -> int:
        fd = self.ours.detach()
        os.set_blocking(fd, False)
        return fd

    def finish(self) -> None:
        self.finished += 1

    def settle(self) -> int | None:
        return self.status


def _child(zygote: _FakeZygote) -> worker.Child:
    return worker.Child(zygote, "print(1)", 1.0)  # type: ignore[arg-type]


def _exchange(child: worker.Child) -> tuple[dict[str, Any], bytes]:
    return child.request({"op": "compile"}, b"", time.monotonic() + 2.0, 1 << 16)


def test_a_child_that_dies_before_confirming_its_setup_is_a_sandbox_failure() -> None:
    zygote = _FakeZygote(status=SETUP_FAILED << 8)  # the wait status of os._exit(71)
    child = _child(zygote)
    zygote.theirs.close()
    with pytest.raises(worker.SetupFailed, match="exit status 71"):
        _exchange(child)
    assert zygote.finished == 1


@pytest.mark.parametrize(
    "first",
    [b"\x00" * 8, encode_frame({"op": "ready"}), encode_frame(SETUP_DONE, b"x")],
    ids=["garbage", "wrong-header", "with-payload"],
)
def test_anything_but_the_confirmation_first_is_a_sandbox_failure(first: bytes) -> None:
    zygote = _FakeZygote(status=None)
    child = _child(zygote)
    zygote.theirs.sendall(first)
    with pytest.raises(worker.SetupFailed):
        _exchange(child)


def test_a_silent_child_is_a_sandbox_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "SETUP_SECONDS", 0.05)
    child = _child(_FakeZygote(status=None))
    with pytest.raises(worker.SetupFailed, match="took over"):
        child.request({"op": "compile"}, b"", time.monotonic(), 1 << 16)


def test_after_the_confirmation_a_closed_channel_is_the_programs() -> None:
    zygote = _FakeZygote(status=SETUP_FAILED << 8)
    child = _child(zygote)
    zygote.theirs.sendall(encode_frame(SETUP_DONE))
    zygote.theirs.close()
    with pytest.raises(ChannelClosed):  # judge.py maps this through outcomes.crash
        _exchange(child)
    assert child.confirmed


def test_the_confirmation_is_read_once_and_replies_follow() -> None:
    zygote = _FakeZygote(status=None)
    child = _child(zygote)
    zygote.theirs.sendall(encode_frame(SETUP_DONE) + encode_frame({"ok": 1}, b"A"))
    assert _exchange(child) == ({"ok": 1}, b"A")
    zygote.theirs.sendall(encode_frame(SETUP_DONE))  # later, the same bytes are just a reply
    assert _exchange(child) == (SETUP_DONE, b"")
    zygote.theirs.close()


def test_crash_never_maps_an_exit_status_or_signal_to_sandbox_error() -> None:
    from rltf.execution.outcomes import crash

    statuses = [code << 8 for code in range(256)] + [int(s) for s in signal.Signals]
    got = {crash("x = 1", st, killed_by_us=k)[0] for st in statuses for k in (False, True)}
    assert "sandbox_error" not in got
    assert crash("x = 1", None, killed_by_us=False)[0] == "sandbox_error"  # the zygote lost it


# -- what a program leaves behind cannot break the zygote ------------------------------------

TWO_TESTS = Problem.from_dict(
    {
        "id": "one-twice",
        "prompt": "",
        "tests": {"type": "stdio", "cases": [{"input": "", "output": "1\n"}] * 2},
    }
)
# Each prints the right answer, then exits abnormally, so the second test needs a fresh child
# (spawned after the zygote removed the first one's working directory).
LEFTOVERS = {
    "deep": "for _ in range(1500):\n    os.mkdir('a')\n    os.chdir('a')",
    "beyond-path-max": "for _ in range(700):\n    os.mkdir('d' * 8)\n    os.chdir('d' * 8)",
    "unreadable": "os.makedirs('x/y')\nopen('x/y/f', 'w').close()\nos.chmod('x/y', 0)\n"
    "os.chmod('x', 0)",
    "link-out": "os.symlink('/etc', 'etc')\nos.symlink('/', 'root')",
}


@needs_linux
def test_a_working_directory_of_any_shape_is_removed_without_a_sandbox_error(
    pool: ExecutionPool,
) -> None:
    programs = [
        f"import os\nprint(1, flush=True)\n{body}\nos._exit(1)\n" for body in LEFTOVERS.values()
    ]
    verdicts = pool.run_batch([(TWO_TESTS, p) for p in programs])
    got = {name: [t.outcome for t in v.tests] for name, v in zip(LEFTOVERS, verdicts, strict=True)}
    assert all(outcomes == ["runtime_error"] * 2 for outcomes in got.values()), got
    assert pool.submit(TWO_TESTS, "print(1)").result().outcome == "passed"


def test_rmtree_is_iterative_descriptor_relative_and_never_follows_links() -> None:
    from rltf.execution.zygote import _rmtree

    # on a tmpfs, as the zygote's working directories are (1100 levels take seconds on a disk)
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    tmp = tempfile.mkdtemp(dir=shm)
    try:
        _check_rmtree(_rmtree, Path(tmp))
    finally:  # rm(1), not shutil.rmtree: that one recurses too, and fails on what _rmtree left
        subprocess.run(["rm", "-rf", tmp], check=True)


def _check_rmtree(rmtree: Callable[[str], None], tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    root = tmp_path / "work"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(1100):  # past the recursion limit (1000), and PATH_MAX (1100 * 9 > 4096)
        os.mkdir("d" * 8, dir_fd=fd)
        os.symlink(str(outside), "out", dir_fd=fd)
        sub = os.open("d" * 8, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = sub
    os.close(fd)
    rmtree(str(root))
    assert not root.exists()
    assert (outside / "keep").read_text() == "x"


# -- the trusted side fails closed on what a program sends -----------------------------------


@needs_linux
def test_values_the_judge_cannot_print_are_wrong_answers_on_a_living_worker(
    pool: ExecutionPool,
) -> None:
    programs = [
        "def f():\n    return 10**5000",  # repr raises past sys.get_int_max_str_digits()
        "def f():\n    return [10**5000]",
        "def f():\n    return -(10**5000)",
    ]
    before = sorted(s.proc.pid for s in pool._slots if s.proc is not None)
    verdicts = pool.run_batch([(CALL, p) for p in programs])
    assert [v.outcome for v in verdicts] == ["failed"] * 3, verdicts
    assert sorted(s.proc.pid for s in pool._slots if s.proc is not None) == before


def test_a_judge_that_raises_fails_closed_not_as_a_sandbox_error() -> None:
    from types import SimpleNamespace

    me = SimpleNamespace(isolation=["setuid"])
    v = worker.Worker._judge_failed(me, ASSERT, RecursionError("deep"))  # type: ignore[arg-type]
    assert v.outcome == "runtime_error" and v.passed == 0 and v.total == 1
    assert (
        v.error is not None and v.error.type == "JudgeError" and "RecursionError" in v.error.message
    )
    assert v.isolation == ("setuid",) and v.notes
