"""From per-test observations to a Verdict (DESIGN.md §2): outcome precedence and error records.

Precedence follows CodeRL's reward code (compile error > runtime error > wrong answer > pass), with
timeouts as their own outcome: the first test (in order) that raised or timed out decides between
``runtime_error`` and ``timeout`` and provides ``Verdict.error``. ``sandbox_error`` wins over all,
since it says nothing about the program and must never become a reward.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rltf.feedback.categories import SIGNAL, TIMEOUT, categorize, count_lines
from rltf.records import ErrorInfo, TestOutcome, TestResult, Verdict


@dataclass
class Observation:
    """One test as the worker saw it."""

    outcome: TestOutcome
    seconds: float = 0.0
    reason: str = ""
    error: ErrorInfo | None = None

    def result(self) -> TestResult:
        return TestResult(self.outcome, self.seconds, self.reason[:300])


def error(program: str, type_: str, message: str, line: int | None) -> ErrorInfo:
    """An ErrorInfo whose category comes from the shared table (truncation unknown here)."""
    n = count_lines(program)
    if line is not None and not 1 <= line <= max(n, 1) + 1:
        line = None  # not a line of the program (e.g. a SyntaxError inside an exec'd string)
    return ErrorInfo(type_, message, line, categorize(type_, message, line, program_lines=n))


def from_child(program: str, info: Any) -> ErrorInfo:
    """An ErrorInfo from the child's untrusted error dict (shape checked, never trusted for
    anything but the category of a failure)."""
    if not isinstance(info, dict):
        return error(program, "Exception", "malformed error report", None)
    line = info.get("line")
    return error(
        program,
        str(info.get("type", "Exception"))[:100],
        str(info.get("message", ""))[:1000],
        line if type(line) is int else None,
    )


def timeout(program: str, message: str) -> ErrorInfo:
    return error(program, TIMEOUT, message, None)


def crash(program: str, status: int | None, killed_by_us: bool) -> tuple[TestOutcome, ErrorInfo]:
    """The child died (or stopped talking) before answering, *after* it confirmed its setup
    (worker.Child): whatever its status, the program did it, so no status maps to
    ``sandbox_error`` (an exit status of 71, the sandbox's own SETUP_FAILED, included: issue 17).
    Only ``None`` does: the zygote did not reap the child, which no program can cause."""
    if status is None:
        return "sandbox_error", error(program, "SandboxError", "the sandbox was lost", None)
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        return "runtime_error", error(
            program, "SystemExit", f"the process exited with status {code} during the test", None
        )
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if sig == signal.SIGXCPU:
        return "timeout", timeout(program, "CPU time limit exceeded")
    if sig == signal.SIGKILL and killed_by_us:
        message = "the program closed or broke its connection to the harness"
        return "runtime_error", error(program, SIGNAL, message, None)
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    return "runtime_error", error(program, SIGNAL, f"killed by {name}", None)


def assemble(
    observations: Sequence[Observation],
    compile_error: ErrorInfo | None,
    isolation: Sequence[str],
    notes: Sequence[str] = (),
) -> Verdict:
    tests = tuple(o.result() for o in observations)
    passed = sum(o.outcome == "passed" for o in observations)
    total = len(observations)
    common: dict[str, Any] = {
        "tests": tests,
        "passed": passed,
        "total": total,
        "isolation": tuple(isolation),
        "notes": tuple(dict.fromkeys(notes)),
    }
    bad = next((o for o in observations if o.outcome == "sandbox_error"), None)
    if bad is not None:
        return Verdict("sandbox_error", error=bad.error, **common)
    if compile_error is not None:
        return Verdict("compile_error", error=compile_error, **common)
    first = next((o for o in observations if o.outcome in ("runtime_error", "timeout")), None)
    if first is not None:
        return Verdict(first.outcome, error=first.error, **common)  # type: ignore[arg-type]
    if passed == total and total > 0:
        return Verdict("passed", **common)
    return Verdict("failed", **common)
