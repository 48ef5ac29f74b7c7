"""Judging one program: run its tests in sandboxed children, compare in the worker.

The child only ever sees the program, stdin inputs and call arguments. A test's wall-clock limit
is ``timeout_per_test``; all tests together get ``timeout_per_program``. In train mode every test
runs: after a timeout or a crash the child is replaced and the next test runs in a fresh one
(while the program's budget lasts). In eval mode the first non-passing test ends the run.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from rltf.execution import outcomes
from rltf.execution.asserts import (
    AssertSession,
    ChildBroken,
    ChildLost,
    ChildTimeout,
    Control,
    NonPlainValue,
    NotDecomposable,
    ProgramException,
)
from rltf.execution.codec import ChannelClosed, ChannelTimeout, ProtocolError, decode, encode
from rltf.execution.compare import call_equal, stdio_equal
from rltf.execution.outcomes import Observation
from rltf.execution.worker import SetupFailed
from rltf.records import AssertTests, CallTests, ErrorInfo, Problem, StdioTests, Verdict

if TYPE_CHECKING:
    from rltf.execution.worker import Child, Worker


class LoadFailed(Exception):
    """The program could not be started (compile error, top-level exception, timeout...)."""

    def __init__(self, outcome: str, error: ErrorInfo, compile_error: bool = False) -> None:
        super().__init__(error.message)
        self.outcome, self.error, self.compile_error = outcome, error, compile_error


class Judge:
    def __init__(self, worker: Worker, problem: Problem, program: str, mode: str) -> None:
        self.worker, self.problem, self.program, self.mode = worker, problem, program, mode
        self.cfg = worker.cfg
        self.start = time.monotonic()
        self.budget_end = self.start + self.cfg.timeout_per_program
        self.child: Child | None = None
        self.notes: list[str] = []
        self.session: AssertSession | None = None
        self.deadline = 0.0

    # -- child management -----------------------------------------------------------------

    def _request(
        self, header: dict[str, Any], payload: bytes = b""
    ) -> tuple[dict[str, Any], bytes]:
        assert self.child is not None
        cap = self.cfg.max_output_bytes + 4096
        return self.child.request(header, payload, self.deadline, cap)

    def _rpc(self, header: dict[str, Any], payload: bytes = b"") -> tuple[dict[str, Any], bytes]:
        """_request for the assert proxies: failures become control-flow exceptions that the
        test code's own ``except Exception`` cannot swallow."""
        try:
            return self._request(header, payload)
        except ChannelTimeout:
            raise ChildTimeout() from None
        except ChannelClosed:
            raise ChildLost() from None
        except ProtocolError as e:
            raise ChildBroken(str(e)) from None

    def _drop_child(self, wait: bool = False) -> int | None:
        child, self.child = self.child, None
        return child.finish(wait) if child is not None else None

    def _ensure_child(self) -> None:
        """Spawn and load the program if no child is running. Raises LoadFailed."""
        if self.child is not None:
            return
        self.deadline = min(time.monotonic() + self.cfg.timeout_per_test, self.budget_end)
        left = self.budget_end - time.monotonic()
        self.child = self.worker.spawn(self.program, cpu_seconds=left)
        tests = self.problem.tests
        if isinstance(tests, StdioTests):
            header: dict[str, Any] = {"op": "compile"}
        else:
            names = self.session.program_names() if self.session is not None else []
            header = {"op": "load", "module": "solution", "names": names}
            if isinstance(tests, AssertTests) and tests.program_setup:
                header["setup"] = tests.program_setup
        prelude = program_prelude(self.problem, self.program) if self.cfg.program_header else ""
        if prelude:
            header["prelude"] = prelude
        try:
            reply, _ = self._request(header)
        except Exception as e:
            raise self._load_failure(e) from None
        if "compile_error" in reply:
            self._drop_child()
            raise LoadFailed("compile_error", self._child_error(reply["compile_error"]), True)
        if "error" in reply:
            self._drop_child()
            raise LoadFailed("runtime_error", self._child_error(reply["error"]))
        if self.session is not None:
            kinds = reply.get("names")
            try:
                self.session.bind(kinds if isinstance(kinds, dict) else {}, self._rpc)
            except (Exception, Control) as e:  # a program value could not be fetched
                raise self._load_failure(e) from None

    def _load_failure(self, e: BaseException) -> LoadFailed:
        channel = (ChannelTimeout, ChannelClosed, ProtocolError, ChildTimeout, ChildLost)
        if isinstance(e, channel):
            return LoadFailed(*self._failure(e))
        self._drop_child()
        if isinstance(e, SetupFailed):  # no program code ran: the sandbox's failure (issue 17)
            return LoadFailed(
                "sandbox_error", outcomes.error(self.program, "SandboxError", str(e), None)
            )
        if isinstance(e, ProgramException):
            return LoadFailed("runtime_error", self._child_error(e.info))
        return LoadFailed(
            "runtime_error", outcomes.error(self.program, type(e).__name__, str(e), None)
        )

    def _child_error(self, info: Any) -> ErrorInfo:
        return outcomes.from_child(self.program, info)

    def _failure(self, e: BaseException) -> tuple[str, ErrorInfo]:
        """Map a failed exchange with the child to (test outcome, error); drops the child."""
        if isinstance(e, ChannelTimeout | ChildTimeout):
            self._drop_child()
            limit = self.cfg.timeout_per_test
            if time.monotonic() >= self.budget_end - 1e-3:
                msg = f"the program exceeded its {self.cfg.timeout_per_program:g} s time limit"
            else:
                msg = f"the test exceeded its {limit:g} s time limit"
            return "timeout", outcomes.timeout(self.program, msg)
        if isinstance(e, ChannelClosed) or type(e) is ChildLost:
            status = self._drop_child(wait=True)
            return outcomes.crash(self.program, status, killed_by_us=False)
        if isinstance(e, ProtocolError | ChildBroken):
            status = self._drop_child(wait=True)
            outcome, err = outcomes.crash(self.program, status, killed_by_us=True)
            return ("runtime_error", err) if outcome == "sandbox_error" else (outcome, err)
        self._drop_child()
        raise e

    # -- the run --------------------------------------------------------------------------

    def run(self) -> Verdict:
        tests = self.problem.tests
        n = self.problem.num_tests
        observations: list[Observation] = []
        if isinstance(tests, AssertTests):
            try:
                self.session = AssertSession(tests)
            except Exception as e:
                err = outcomes.error(self.program, "SandboxError", f"test setup failed: {e}", None)
                failed = [Observation("sandbox_error", error=err)] * n
                return outcomes.assemble(failed, None, self.worker.isolation)
        compile_error = None
        try:
            for i in range(n):
                if time.monotonic() >= self.budget_end:
                    msg = f"the program exceeded its {self.cfg.timeout_per_program:g} s time limit"
                    observations.append(
                        Observation("timeout", 0.0, msg, outcomes.timeout(self.program, msg))
                    )
                    break
                try:
                    self._ensure_child()
                    observation = self._run_test(i)
                except LoadFailed as e:
                    if e.compile_error:
                        compile_error = e.error
                    outcome = e.outcome if e.outcome != "compile_error" else "compile_error"
                    observations += [Observation(outcome, 0.0, e.error.message, e.error)] * (n - i)  # type: ignore[arg-type]
                    break
                observations.append(observation)
                if self.mode == "eval" and observation.outcome != "passed":
                    break
        finally:
            self._drop_child()
        observations += [Observation("not_run")] * (n - len(observations))
        notes = self.notes
        if self.session is not None and self.session.helpers:
            notes.append(
                "the tests call helper(s) defined by the program ("
                + ", ".join(self.session.helpers)
                + "); the program controls what they return"
            )
        return outcomes.assemble(observations, compile_error, self.worker.isolation, notes)

    def _run_test(self, i: int) -> Observation:
        t0 = time.monotonic()
        self.deadline = min(t0 + self.cfg.timeout_per_test, self.budget_end)
        tests = self.problem.tests
        try:
            if isinstance(tests, StdioTests):
                outcome, reason, err = self._stdio(i, tests)
            elif isinstance(tests, CallTests):
                outcome, reason, err = self._call(i, tests)
            else:
                outcome, reason, err = self._assert(i)
        except (ChannelTimeout, ChannelClosed, ProtocolError, ChildTimeout, ChildLost) as e:
            outcome, err = self._failure(e)
            reason = err.message
        return Observation(outcome, time.monotonic() - t0, reason, err)  # type: ignore[arg-type]

    def _stdio(self, i: int, tests: StdioTests) -> tuple[str, str, ErrorInfo | None]:
        case = tests.cases[i]
        reply, out = self._request({"op": "stdio"}, case.input.encode())
        if "error" in reply:
            err = self._child_error(reply["error"])
            return "runtime_error", f"{err.type}: {err.message}", err
        size = reply.get("size", 0)
        if type(size) is not int or size > self.cfg.max_output_bytes:
            return "failed", f"output longer than {self.cfg.max_output_bytes} bytes", None
        text = out.decode("utf-8", errors="replace")
        if stdio_equal(text, case.output):
            return "passed", "", None
        return "failed", f"wrong output: {_clip(text)!r}", None

    def _call(self, i: int, tests: CallTests) -> tuple[str, str, ErrorInfo | None]:
        case = tests.cases[i]
        reply, data = self._request({"op": "call", "fn": tests.fn_name}, encode(list(case.args)))
        if "error" in reply:
            err = self._child_error(reply["error"])
            return "runtime_error", f"{err.type}: {err.message}", err
        if "nonplain" in reply:
            return "failed", f"returned a non-plain value ({str(reply['nonplain'])[:80]})", None
        try:
            value = decode(data)
        except ProtocolError as e:
            return "failed", f"malformed result: {e}", None
        if call_equal(value, case.expected):
            return "passed", "", None
        return "failed", f"wrong result: {_clip(_repr(value))}", None

    def _assert(self, i: int) -> tuple[str, str, ErrorInfo | None]:
        session = self.session
        assert session is not None
        try:
            session.run(i, self.deadline - time.monotonic())
        except ProgramException as e:  # first: the program's own AssertionError is an error
            err = self._child_error(e.info)
            return "runtime_error", f"{err.type}: {err.message}", err
        except AssertionError:
            return "failed", "assertion failed", None
        except NonPlainValue as e:
            return "failed", str(e), None
        except NotDecomposable as e:
            return self._assert_in_child(i, str(e))
        except NameError as e:  # the program does not define a name the test calls
            err = outcomes.error(self.program, "NameError", str(e), None)
            return "runtime_error", f"NameError: {e}", err
        except Exception as e:  # the test itself raised on the program's (plain) values
            return "failed", f"the test raised {type(e).__name__}: {e}", None
        return "passed", "", None

    def _assert_in_child(self, i: int, why: str) -> tuple[str, str, ErrorInfo | None]:
        assert self.session is not None
        self.notes.append(f"assert {i} ran inside the sandbox ({why}): its result is forgeable")
        reply, _ = self._request({"op": "exec"}, self.session.fallback_source(i).encode())
        if "failed" in reply:
            return "failed", "assertion failed", None
        if "error" in reply:
            err = self._child_error(reply["error"])
            return "runtime_error", f"{err.type}: {err.message}", err
        return "passed", "", None


def program_prelude(problem: Problem, program: str) -> str:
    """The import header ``problem`` declares (``meta["program_header"]``, set by the APPS
    loaders), to run before ``program`` in its namespace. ``import numpy as np`` is kept only
    when the program names ``np`` or ``numpy``: no other program can observe it, and importing
    numpy in a child that did not preload it costs ~0.1 s per program."""
    header = problem.meta.get("program_header")
    if not isinstance(header, str) or not header:
        return ""
    if not _NUMPY_NAMES.search(program):
        header = "".join(
            line for line in header.splitlines(keepends=True) if "import numpy" not in line
        )
    return header


_NUMPY_NAMES = re.compile(r"\b(?:np|numpy)\b")


def _clip(text: str, n: int = 120) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _repr(value: Any) -> str:
    """repr of a program's (plain) value for a failure reason; never raises (issue 17: an int
    over sys.get_int_max_str_digits() digits made repr raise, which killed the worker)."""
    try:
        return repr(value)
    except Exception as e:
        return f"<{type(value).__name__}: {type(e).__name__}>"
